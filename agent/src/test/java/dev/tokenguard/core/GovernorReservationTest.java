package dev.tokenguard.core;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.CallScope;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.Reservation;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.SessionListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the governor reserves for a call, and that every way a call can end gives its reservation back. */
class GovernorReservationTest {
    BudgetEngine engine = new BudgetEngine(List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.GLOBAL, 1_000L,
            null, null, null, null, new double[] {0.75}, EnforcementMode.ENFORCE)), Clock.systemUTC(), MdcSource.NONE,
            SessionListener.NONE);

    Governor governor(Reservations reservations) {
        return new Governor(engine, null, Telemetry.NONE, Clock.systemUTC(),
                Governor.Settings.DEFAULT.withReservations(reservations));
    }

    @AfterEach
    void close() {
        engine.close();
    }

    static CallRequest request(Long cap, String prompt) {
        return new CallRequest("openai", "chat", "gpt-4o", false, "127.0.0.1", 80, cap, prompt);
    }

    static LlmCall begun(Object started) {
        assertTrue(started instanceof LlmCall, String.valueOf(started));
        return (LlmCall) started;
    }

    long reserved() {
        return engine.reservedTokens(engine.enter(), BudgetSpec.DEFAULT_NAME);
    }

    @Test
    void aCallReservesItsCountedInputAndItsOutputCapOrTheConfiguredReserve() {
        Governor g = governor(new Reservations(300, Duration.ZERO));
        // o200k_base: "Hello" " world" "!" are three tokens (OpenAI's tokenizer page shows the same split)
        LlmCall capped = begun(g.begin(request(50L, "Hello world!")));
        assertEquals(3 + 50, capped.reservation().estimate().totalTokens());
        LlmCall uncapped = begun(g.begin(request(null, "Hello world!")));
        assertEquals(3, uncapped.reservation().estimate().inputTokens());
        assertEquals(300, uncapped.reservation().estimate().outputTokens());
        LlmCall unknown = begun(g.begin(new CallRequest("anthropic", "chat", "claude-3-5-haiku", false, null, null)));
        assertEquals(0, unknown.reservation().estimate().inputTokens(), "no text known: no input reserved");
        assertEquals(300, unknown.reservation().estimate().outputTokens());
        assertEquals(53 + 303 + 300, reserved());
        capped.finish(new Usage(3L, 20L, null, null, null, "gpt-4o", "a", List.of(), UsageSource.PROVIDER));
        uncapped.finish(new Usage(3L, 20L, null, null, null, "gpt-4o", "b", List.of(), UsageSource.PROVIDER));
        unknown.finish(null);
        assertEquals(0, reserved());
        assertEquals(0, engine.openReservations());
    }

    @Test
    void farFromItsLimitACallReservesItsInputsUtf8LengthAndCloseToItItsCountedTokens() {
        BudgetEngine roomy = new BudgetEngine(List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.GLOBAL,
                100_000L, null, null, null, null, new double[] {0.75}, EnforcementMode.ENFORCE)), Clock.systemUTC(),
                MdcSource.NONE, SessionListener.NONE);
        try {
            Governor g = new Governor(roomy, null, Telemetry.NONE, Clock.systemUTC(),
                    Governor.Settings.DEFAULT.withReservations(new Reservations(300, Duration.ZERO)));
            // "naïve café 😀": seven one-byte letters, ï and é two bytes each, two spaces, the emoji four bytes: 17
            LlmCall far = begun(g.begin(request(50L, "naïve café 😀")));
            assertEquals(17, far.reservation().estimate().inputTokens(), "100,000 left: room for 32 x 67 tokens");
            assertEquals(50, far.reservation().estimate().outputTokens());
            far.finish(new Usage(98_000L, 0L, null, null, null, "gpt-4o", "a", List.of(), UsageSource.PROVIDER));
            // 2,000 left: room for 32 x 15 tokens ("Hello world!", 12 bytes, + 3), not for 32 x 312
            LlmCall capped = begun(g.begin(request(3L, "Hello world!")));
            assertEquals(12, capped.reservation().estimate().inputTokens());
            LlmCall near = begun(g.begin(request(null, "Hello world!")));
            assertEquals(3, near.reservation().estimate().inputTokens(), "o200k_base: Hello, ' world', '!'");
            assertEquals(300, near.reservation().estimate().outputTokens());
            assertEquals(15 + 303, roomy.reservedTokens(roomy.enter(), BudgetSpec.DEFAULT_NAME));
            capped.fail(new IllegalStateException("HTTP 500"), Usage.UNKNOWN);
            near.fail(new IllegalStateException("HTTP 500"), Usage.UNKNOWN);
            assertEquals(0, roomy.openReservations());
        } finally {
            roomy.close();
        }
    }

    @Test
    void theBoundIsTheTextsLengthInUtf8Bytes() {
        for (String text : List.of("", "plain ASCII", "naïve café", "日本語のテキスト", "emoji 😀 and 🚀",
                "a lone surrogate \uD800 here", "\uDC00 first")) {
            assertEquals(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length,
                    RequestInput.utf8Length(text), text);
        }
    }

    @Test
    void aFailedCallGivesItsReservationBack() {
        Governor g = governor(new Reservations(100, Duration.ZERO));
        LlmCall failed = begun(g.begin(request(null, "a question")));
        LlmCall timedOut = begun(g.begin(request(null, "a question")));
        LlmCall cancelled = begun(g.begin(request(null, "a question")));
        assertEquals(3, engine.openReservations());
        failed.fail(new IllegalStateException("HTTP 500"), Usage.UNKNOWN);
        timedOut.fail(new java.net.SocketTimeoutException("timeout"), null);
        cancelled.fail(new java.util.concurrent.CancellationException(), new Usage(12L, 3L, null, null, null, null,
                null, List.of(), UsageSource.ESTIMATED));
        assertEquals(0, engine.openReservations());
        assertEquals(0, reserved());
        assertEquals(15, engine.states(engine.enter()).get(0).used(), "what the cancelled stream had used");
    }

    @Test
    void aCallThatIsNeverFinishedIsReleasedOnceNothingHoldsIt() {
        Governor g = governor(new Reservations(100, Duration.ZERO));
        begun(g.begin(request(null, "a stream the app drops without closing it")));
        assertEquals(1, engine.openReservations());
        List<Reservation> released = List.of();
        for (int i = 0; i < 50 && released.isEmpty(); i++) {
            System.gc();
            released = engine.releaseAbandoned(Long.MAX_VALUE);
        }
        assertEquals(1, released.size());
        assertEquals(0, reserved());
    }

    @Test
    void aCallOnAnEventLoopIsDecidedAtOnceWhereAnotherThreadWaits() throws Exception {
        Governor g = governor(new Reservations(2_000, Duration.ofMinutes(10)));
        LlmCall first = begun(g.begin(request(null, null))); // 2000 reserved covers the 1000 left
        AtomicReference<Object> onLoop = new AtomicReference<>();
        Thread loop = new Thread(() -> onLoop.set(g.begin(request(null, null))), "nioEventLoopGroup-2-1");
        loop.start();
        loop.join(); // would wait ten minutes were it not recognised
        LlmCall decided = begun(onLoop.get());
        assertTrue(decided.reservation().forced(), "admitted on the settled numbers without waiting");
        AtomicReference<Object> onWorker = new AtomicReference<>();
        Thread worker = new Thread(() -> onWorker.set(g.begin(request(null, null))), "http-nio-8080-exec-1");
        worker.start();
        while (worker.getState() != Thread.State.TIMED_WAITING) {
            assertTrue(worker.isAlive(), "a worker thread waits for the calls in flight");
            Thread.onSpinWait();
        }
        first.finish(new Usage(600L, 500L, null, null, null, null, null, List.of(), UsageSource.PROVIDER));
        decided.fail(new IllegalStateException(), null);
        worker.join();
        assertTrue(onWorker.get() instanceof BudgetExhaustedException, String.valueOf(onWorker.get()));
        assertEquals(0, engine.openReservations());
    }

    @Test
    void withReservationOffNothingIsReservedAndCallsAreAdmittedWhileUsedIsBelowTheLimit() {
        Governor g = governor(Reservations.OFF);
        LlmCall a = begun(g.begin(request(5_000L, "x")));
        LlmCall b = begun(g.begin(request(5_000L, "x")));
        assertEquals(null, a.reservation());
        assertEquals(0, engine.openReservations());
        a.finish(new Usage(600L, 500L, null, null, null, null, null, List.of(), UsageSource.PROVIDER));
        b.finish(new Usage(600L, 500L, null, null, null, null, null, List.of(), UsageSource.PROVIDER));
        assertTrue(g.begin(request(1L, "x")) instanceof BudgetExhaustedException);
    }

    @Test
    void eventLoopThreadsAreRecognisedByNameOrByReactorsMarker() {
        for (String name : List.of("nioEventLoopGroup-2-1", "epollEventLoopGroup-3-4", "reactor-http-nio-2",
                "reactor-http-epoll-1", "vert.x-eventloop-thread-0", "multiThreadIoEventLoopGroup-1-1",
                "grpc-nio-worker-ELG-1-2")) {
            assertTrue(EventLoopThreads.isEventLoopName(name), name);
        }
        for (String name : List.of("main", "http-nio-8080-exec-1", "vert.x-worker-thread-0", "ForkJoinPool-1-worker-1",
                "boundedElastic-1", "OkHttp Dispatcher")) {
            assertFalse(EventLoopThreads.isEventLoopName(name), name);
        }
        class ParallelThread extends Thread implements reactor.core.scheduler.NonBlocking {
            ParallelThread() {
                super("parallel-1");
            }
        }
        class Subclass extends ParallelThread {
        }
        assertTrue(EventLoopThreads.isEventLoop(new ParallelThread()));
        assertTrue(EventLoopThreads.isEventLoop(new Subclass()));
        assertFalse(EventLoopThreads.isEventLoop(new Thread("boundedElastic-1")));
    }
}
