package dev.tokenguard.core;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.sessionlog.SessionLogEvents;
import dev.tokenguard.sessionlog.SessionLogWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Calls crossing thresholds at nearly the same moment still log their warnings in threshold order. */
class WarningOrderTest {
    static final double[] WARN = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95};

    @TempDir
    Path dir;

    @Test
    void concurrentCallsLogAScopesWarningsInThresholdOrder() throws Exception {
        int rounds = 20;
        int threads = 16;
        for (int round = 0; round < rounds; round++) {
            Path logDir = Files.createDirectories(dir.resolve("round-" + round));
            SessionLogWriter log = new SessionLogWriter(logDir, "test", 1, Clock.systemUTC(), line -> {
                throw new AssertionError(line);
            });
            BudgetEngine engine = new BudgetEngine(List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.GLOBAL,
                    2_000L, null, null, null, null, WARN, EnforcementMode.WARN)), Clock.systemUTC(), MdcSource.NONE,
                    log.sessionListener());
            Governor governor = new Governor(engine, log, Telemetry.NONE, Clock.systemUTC(),
                    Governor.Settings.DEFAULT.withReservations(Reservations.OFF));
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Thread w = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int c = 0; c < 50; c++) {
                        Object call = governor.begin(new CallRequest("openai", "chat", "gpt-4o", false, null, null));
                        ((LlmCall) call).finish(new Usage(2L, 1L, null, null, null, null, null, List.of(),
                                UsageSource.PROVIDER));
                    }
                }, "caller-" + t);
                workers.add(w);
                w.start();
            }
            go.countDown();
            for (Thread w : workers) {
                w.join();
            }
            engine.close();
            log.close();
            // 16 x 50 calls of 3 tokens = 2,400 >= 2,000: every threshold is crossed once, in one session
            List<JsonNode> warnings = SessionLogEvents.of(logDir, "budget_warning");
            assertEquals(WARN.length, warnings.size(), warnings::toString);
            for (int i = 0; i < WARN.length; i++) {
                assertEquals(WARN[i], warnings.get(i).get("threshold").asDouble(), "round " + round + ": " + warnings);
            }
        }
    }
}
