package dev.tokenguard.core;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.api.BudgetStatus;
import dev.tokenguard.api.UsageEvent;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.BudgetView;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.sessionlog.SessionLogEvents;
import dev.tokenguard.sessionlog.SessionLogWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Usage listeners as the governor feeds them: each charged call once, after its charge, never holding a call up. */
class UsageEventsTest {
    /** The longest a test waits for an event before it fails (a bound on a hang, not a timing assertion). */
    static final long WAIT_SECONDS = 30;

    @TempDir
    Path dir;
    BudgetEngine engine;
    SessionLogWriter log;
    Governor governor;
    UsageEvents events;

    @BeforeEach
    void start() {
        log = new SessionLogWriter(dir, "test", 1, Clock.systemUTC(), line -> {
            throw new AssertionError(line);
        });
        engine = new BudgetEngine(List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD, 1_000_000L, null,
                null, null, null, new double[] {0.75}, EnforcementMode.ENFORCE)), Clock.systemUTC(), MdcSource.NONE,
                log.sessionListener());
        governor = new Governor(engine, log, Telemetry.NONE, Clock.systemUTC());
        events = new UsageEvents(engine, UsageEvents.BACKLOG);
        UsageEvents.install(events);
    }

    @AfterEach
    void stop() {
        UsageEvents.install(null);
        events.close();
        engine.close();
        log.close();
    }

    void call(long input, long output) {
        Object started = governor.begin(new CallRequest("openai", "chat", "gpt-4o", false, null, null));
        assertTrue(started instanceof LlmCall, String.valueOf(started));
        ((LlmCall) started).finish(new Usage(input, output, null, null, null, "gpt-4o-2024-08-06", "id", List.of(),
                UsageSource.PROVIDER));
    }

    static UsageEvent next(BlockingQueue<UsageEvent> queue) throws InterruptedException {
        UsageEvent e = queue.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        assertNotNull(e, "no event within " + WAIT_SECONDS + " s");
        return e;
    }

    @Test
    void anEventCarriesWhatTheCallsLogLineCarriesAndTheBudgetAfterTheCharge() throws Exception {
        BlockingQueue<UsageEvent> seen = new LinkedBlockingQueue<>();
        events.subscribe(seen::add);
        Object started = governor.begin(new CallRequest("anthropic", "chat", "claude-sonnet-4-5", true, null, null));
        ((LlmCall) started).finish(new Usage(1_200L, 80L, 1_000L, 0L, 16L, "claude-sonnet-4-5-20250929", "msg_1",
                List.of("end_turn"), UsageSource.PROVIDER));
        UsageEvent e = next(seen);
        List<JsonNode> lines = SessionLogEvents.of(dir, "llm_call");
        assertEquals(1, lines.size());
        JsonNode line = lines.get(0);
        assertEquals(line.get("session").asText(), e.session());
        assertEquals("anthropic", e.provider());
        assertEquals("chat", e.operation());
        assertEquals("claude-sonnet-4-5", e.requestModel());
        assertEquals("claude-sonnet-4-5-20250929", e.responseModel());
        assertEquals(1_200L, e.inputTokens());
        assertEquals(80L, e.outputTokens());
        assertEquals(1_280L, e.totalTokens());
        assertEquals(1_000L, e.cacheReadTokens());
        assertEquals(0L, e.cacheWriteTokens());
        assertEquals(16L, e.reasoningTokens());
        assertNull(e.costUsd(), "no price table: not priced");
        assertTrue(e.streaming());
        assertFalse(e.failed());
        assertEquals("provider", e.usageSource());
        assertEquals(line.get("duration_ms").asLong(), e.durationMillis());
        Thread t = Thread.currentThread();
        String scope = "thread:" + t.getName() + "#" + t.getId();
        assertEquals(scope, e.scope());
        assertEquals(List.of(new BudgetStatus("default", scope, 1_280, 1_000_000, 0, -1, null)), e.budgets());
    }

    @Test
    void concurrentCallsReachEveryListenerExactlyOnce() throws Exception {
        int threads = 8;
        int perThread = 50;
        BlockingQueue<UsageEvent> first = new LinkedBlockingQueue<>();
        BlockingQueue<UsageEvent> second = new LinkedBlockingQueue<>();
        events.subscribe(first::add);
        events.subscribe(second::add);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int w = 0; w < threads; w++) {
            int base = w * perThread;
            Thread worker = new Thread(() -> {
                try {
                    go.await();
                    for (int i = 1; i <= perThread; i++) {
                        call(base + i, 0); // each call's input count is its own number: 1 .. threads * perThread
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "caller-" + w);
            workers.add(worker);
            worker.start();
        }
        go.countDown();
        for (Thread worker : workers) {
            worker.join();
        }
        assertEquals(List.of(), failures);
        call(1_000_000 - 1, 0); // a last call after all others: FIFO delivery puts any duplicate before it
        int n = threads * perThread;
        for (BlockingQueue<UsageEvent> queue : List.of(first, second)) {
            Set<Long> inputs = new HashSet<>();
            long sum = 0;
            for (int i = 0; i < n; i++) {
                UsageEvent e = next(queue);
                inputs.add(e.inputTokens());
                sum += e.inputTokens();
            }
            assertEquals(1_000_000 - 1, next(queue).inputTokens(), "the last call comes last, nothing in between");
            assertEquals(n, inputs.size(), "no call delivered twice");
            assertEquals((long) n * (n + 1) / 2, sum, "1 + 2 + ... + n: every call delivered");
            assertTrue(queue.isEmpty());
        }
        assertEquals(0, events.dropped());
    }

    @Test
    void aThrowingListenerIsReportedOnceAndNeitherTheCallNorTheOtherListenersNotice() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream original = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            BlockingQueue<UsageEvent> seen = new LinkedBlockingQueue<>();
            Consumer<UsageEvent> throwing = e -> {
                throw new IllegalStateException("the application's own bug, with a secret sk-do-not-print");
            };
            events.subscribe(throwing);
            events.subscribe(seen::add);
            call(10, 1);
            call(20, 2);
            call(30, 3);
            assertEquals(List.of(11L, 22L, 33L), List.of(next(seen).totalTokens(), next(seen).totalTokens(),
                    next(seen).totalTokens()));
        } finally {
            System.setErr(original);
        }
        // other threads of this test JVM may print too: only the listener's lines count here
        List<String> lines = err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("usage listener"))
                .toList();
        assertEquals(1, lines.size(), lines::toString);
        assertTrue(lines.get(0).startsWith("TokenGuard: a usage listener ("), lines.get(0));
        assertTrue(lines.get(0).contains("threw java.lang.IllegalStateException; the call was not affected"),
                lines.get(0));
        assertFalse(lines.get(0).contains("sk-do-not-print"), "the exception's message stays out of the log");
        assertEquals(3, SessionLogEvents.of(dir, "llm_call").size());
        assertEquals(11 + 22 + 33, engine.view(null).used());
    }

    @Test
    void aStuckListenerNeverHoldsACallUpPastTheBacklogEventsAreDroppedAndCounted() throws Exception {
        UsageEvents.install(null);
        events.close();
        events = new UsageEvents(engine, 2);
        UsageEvents.install(events);
        CountDownLatch inListener = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        BlockingQueue<UsageEvent> seen = new LinkedBlockingQueue<>();
        events.subscribe(e -> {
            inListener.countDown();
            try {
                release.await();
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
            }
            seen.add(e);
        });
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream original = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            call(1, 0);
            assertTrue(inListener.await(WAIT_SECONDS, TimeUnit.SECONDS));
            // the listener holds the first event: two more wait in the backlog, the other two are dropped; the
            // calls return all the same (were they held up, this thread would never get past them)
            call(2, 0);
            call(3, 0);
            call(4, 0);
            call(5, 0);
        } finally {
            System.setErr(original);
        }
        assertEquals(2, events.dropped());
        assertEquals(1 + 2 + 3 + 4 + 5, engine.view(null).used(), "every call charged");
        assertEquals(5, SessionLogEvents.of(dir, "llm_call").size(), "and logged");
        release.countDown();
        assertEquals(List.of(1L, 2L, 3L), List.of(next(seen).inputTokens(), next(seen).inputTokens(),
                next(seen).inputTokens()));
        List<String> lines = err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("usage listeners"))
                .toList();
        assertEquals(1, lines.size(), lines::toString);
        assertTrue(lines.get(0).contains("usage listeners fall behind: 2 events wait for them"), lines.get(0));
    }

    @Test
    void aClosedSubscriptionReceivesNothingMore() throws Exception {
        BlockingQueue<UsageEvent> leaving = new LinkedBlockingQueue<>();
        BlockingQueue<UsageEvent> staying = new LinkedBlockingQueue<>();
        Runnable unsubscribe = events.subscribe(leaving::add);
        events.subscribe(staying::add);
        call(1, 0);
        assertEquals(1L, next(staying).inputTokens());
        assertEquals(1L, next(leaving).inputTokens());
        unsubscribe.run();
        call(2, 0);
        assertEquals(2L, next(staying).inputTokens());
        assertTrue(leaving.isEmpty(), leaving::toString);
    }

    @Test
    void aBudgetViewBecomesTheStatusAnApplicationReads() {
        BudgetStatus status = UsageEvents.status(new BudgetView("spend", "mdc:tenant=acme", 1_500, -1, 250_000_000L,
                2_000_000_000L, Instant.parse("2026-03-02T00:00:00Z").toEpochMilli()));
        assertEquals(new BudgetStatus("spend", "mdc:tenant=acme", 1_500, -1, 0.25, 2.0,
                Instant.parse("2026-03-02T00:00:00Z")), status);
        assertEquals(1.75, status.remainingUsd());
        assertEquals(Long.MAX_VALUE, status.remainingTokens());
        assertEquals(new BudgetStatus("default", "global", 10, 100, 0.0, -1, null),
                UsageEvents.status(new BudgetView("default", "global", 10, 100, 0, -1, 0)));
    }

    @Test
    void withoutListenersNothingIsQueuedAndTheBudgetIsAnsweredForTheCallingThread() {
        call(40, 2);
        assertEquals(0, events.dropped());
        BudgetStatus status = events.budget(null);
        assertEquals(42, status.usedTokens());
        assertEquals(1_000_000 - 42, status.remainingTokens());
        assertNull(events.budget("nonexistent"));
    }
}
