package dev.tokenguard.core;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.sessionlog.LogLayout;
import dev.tokenguard.sessionlog.RestartReplay;
import dev.tokenguard.sessionlog.SessionLogWriter;
import dev.tokenguard.sessionlog.TestClock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A restart in one JVM: a first "process" spends part of a daily global budget, a second one continues from it. */
class RestartReplayGovernorTest {
    @TempDir
    Path dir;

    final List<String> errors = new CopyOnWriteArrayList<>();

    static final List<BudgetSpec> DAILY_GLOBAL = List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.GLOBAL,
            1_000L, null, null, null, Duration.ofDays(1), new double[] {0.75}, EnforcementMode.ENFORCE));

    static final Usage HUNDRED = new Usage(80L, 20L, null, null, null, "gpt-4o", "id", List.of(), UsageSource.PROVIDER);

    Object begin(Governor g) {
        return g.begin(new CallRequest("openai", "chat", "gpt-4o", false, null, null));
    }

    @Test
    void theSecondProcessStartsFromWhatTheFirstSpentToday() throws Exception {
        for (LogLayout layout : LogLayout.values()) {
            Path logs = dir.resolve(layout.wireName());
            TestClock clock = new TestClock("2026-12-01T09:00:00Z");
            SessionLogWriter log1 = new SessionLogWriter(logs, "1.0", 1, clock, errors::add,
                    new SessionLogWriter.Settings(layout, "svc", "p1-a", null, -1));
            BudgetEngine engine1 = new BudgetEngine(DAILY_GLOBAL, clock, MdcSource.NONE, log1.sessionListener());
            Governor first = new Governor(engine1, log1, Telemetry.NONE, clock);
            for (int i = 0; i < 7; i++) {
                ((LlmCall) begin(first)).finish(HUNDRED);
            }
            engine1.close();
            log1.close();

            clock.set("2026-12-01T15:00:00Z"); // restarted in the afternoon, same UTC day
            SessionLogWriter log2 = new SessionLogWriter(logs, "1.0", 2, clock, errors::add,
                    new SessionLogWriter.Settings(layout, "svc", "p2-b", null, -1));
            BudgetEngine engine2 = new BudgetEngine(DAILY_GLOBAL, clock, MdcSource.NONE, log2.sessionListener());
            Governor second = new Governor(engine2, log2, Telemetry.NONE, clock);
            RestartReplay replay = RestartReplay.start(log2.dir(), "svc", DAILY_GLOBAL, engine2, clock, errors::add);
            assertNotNull(replay);
            second.holdCallsUntil(replay.done(), RestartReplay.WAIT, replay::giveUp);

            // by hand: 7 x 100 = 700 of 1,000 spent; calls of 100: the 3 next pass, the 4th is refused
            for (int i = 0; i < 3; i++) {
                Object call = begin(second);
                assertTrue(call instanceof LlmCall, layout + " call " + (i + 1) + ": " + call);
                ((LlmCall) call).finish(HUNDRED);
            }
            Object refused = begin(second);
            assertTrue(refused instanceof BudgetExhaustedException, layout + ": " + refused);
            assertEquals(1_000, ((BudgetExhaustedException) refused).usedTokens());
            assertEquals(7, replay.done().get().calls());
            engine2.close();
            log2.close();
        }
        assertTrue(errors.isEmpty(), errors::toString);
    }

    @Test
    void aWaitThatRunsOutIsReportedOnceAndCallsGoOn() {
        TestClock clock = new TestClock("2026-12-01T09:00:00Z");
        BudgetEngine engine = new BudgetEngine(DAILY_GLOBAL, clock, MdcSource.NONE, null);
        Governor g = new Governor(engine, null, Telemetry.NONE, clock);
        AtomicInteger timeouts = new AtomicInteger();
        g.holdCallsUntil(new CompletableFuture<Void>(), Duration.ofMillis(20), timeouts::incrementAndGet);
        assertTrue(begin(g) instanceof LlmCall);
        assertTrue(begin(g) instanceof LlmCall);
        assertEquals(1, timeouts.get());

        CompletableFuture<Void> done = new CompletableFuture<>();
        done.complete(null);
        g.holdCallsUntil(done, Duration.ofMillis(20), timeouts::incrementAndGet);
        assertTrue(begin(g) instanceof LlmCall);
        assertEquals(1, timeouts.get(), "a finished replay is not waited for");
        engine.close();
    }
}
