package dev.tokenguard.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Thread scope instances released after {@code tokenguard.budget.idle-release} without a call: the thread stays alive
 * (a parked pool thread), its session ends with reason {@code idle}, and its next call starts a new session from what
 * it used in the window.
 */
class ThreadScopeIdleReleaseTest {
    static final Instant T0 = Instant.parse("2025-03-10T10:15:00Z");
    static final long IDLE = Duration.ofMinutes(15).toMillis();
    static final long MINUTE = 60_000;
    static final long WAIT_SECONDS = 30;

    final PausingClock clock = new PausingClock(new MutableClock(T0));
    final RecordingListener listener = new RecordingListener();

    BudgetEngine engine(Long maxTokens, Duration window) {
        return engine(maxTokens, window, listener);
    }

    BudgetEngine engine(Long maxTokens, Duration window, SessionListener l) {
        return new BudgetEngine(List.of(new BudgetSpec("default", ScopeSpec.THREAD, maxTokens, null, null, null,
                window, new double[] {0.5}, EnforcementMode.ENFORCE)), clock, MdcSource.NONE, l);
    }

    /** enter + check + charge as one call of the calling thread; the refusal when refused. */
    static Refusal call(BudgetEngine e, long input, long output) {
        CallScope s = e.enter();
        Refusal r = e.check(s);
        if (r == null) {
            e.charge(s, input, output, null);
        }
        return r;
    }

    static String myKey() {
        Thread t = Thread.currentThread();
        return "thread:" + t.getName() + "#" + t.getId();
    }

    @Test
    void anIdleThreadEndsItsSessionAndItsNextCallStartsFromWhatItUsed() {
        BudgetEngine e = engine(1000L, null);
        assertNull(call(e, 600, 300));
        Session first = listener.started.peek();
        assertNotNull(first);
        assertEquals(myKey(), first.scopeKey());

        listener.assertReleasedOnceAfterIdle(e, clock::advanceMillis, IDLE, first, 600, 300);

        clock.advanceMillis(60 * MINUTE); // no window: kept for as long as the thread lives
        assertEquals(0, e.releaseIdle(IDLE));
        CallScope next = e.enter();
        assertEquals(myKey(), next.scopeKey());
        assertNotEquals(first.id(), next.session().id(), "a new session");
        assertNull(e.check(next), "900 of 1000 used");
        e.charge(next, 70, 30, null);
        assertEquals(new BudgetState("default", myKey(), 1000, 1000), e.states(next).get(0), "900 kept + 100");
        assertEquals(0, e.keptScopes());
        assertEquals(1, e.liveScopes());
        Refusal refused = call(e, 1, 1);
        assertNotNull(refused);
        assertEquals(1000, refused.used());
        assertEquals(1000, refused.limit());
        assertEquals(myKey(), refused.scopeKey());
        assertEquals(2, listener.started.size());
        assertEquals(List.of(0L, 0L), new ArrayList<>(listener.tokensAtStart));
        assertEquals(100, next.session().inputTokens() + next.session().outputTokens(), "the new session's own");
        assertEquals(List.of(SessionListener.IDLE), listener.endReasons(), "the new session is still open");
    }

    @Test
    void anExhaustedThreadStaysRefusedAfterItsRelease() {
        BudgetEngine e = engine(500L, null);
        assertNull(call(e, 400, 100));
        clock.advanceMillis(IDLE);
        assertEquals(1, e.releaseIdle(IDLE));
        Refusal r = call(e, 1, 1);
        assertNotNull(r, "the first call after the release sees the 500 kept");
        assertEquals(500, r.used());
        assertEquals(500, r.limit());
        CallScope s = e.enter();
        Admission a = e.reserve(s, new Estimate(1, 1, 0), 0);
        assertNotNull(a.refusal(), "refused by reservation too");
        assertEquals(500, a.refusal().used());
    }

    @Test
    void thresholdsReportedBeforeTheReleaseAreNotReportedAgain() {
        BudgetEngine e = engine(100L, null);
        assertEquals(1, e.charge(e.enter(), 60, 0, null).crossings().size(), "50 % crossed");
        clock.advanceMillis(IDLE);
        assertEquals(1, e.releaseIdle(IDLE));
        assertEquals(0, e.charge(e.enter(), 10, 0, null).crossings().size());
        assertEquals(70, e.view(null).used());
    }

    @Test
    void aThreadWithAReservationOpenIsNotIdle() {
        BudgetEngine e = engine(1000L, null);
        CallScope s = e.enter();
        Admission a = e.reserve(s, new Estimate(100, 50, 0), 0);
        assertNull(a.refusal());
        clock.advanceMillis(IDLE + 5 * MINUTE);
        assertEquals(0, e.releaseIdle(IDLE), "the call is in flight");
        assertEquals(1, e.liveScopes());
        e.charge(s, a.reservation(), 80, 20, null);
        assertEquals(0, e.openReservations());
        clock.advanceMillis(IDLE);
        assertEquals(1, e.releaseIdle(IDLE));
        assertEquals(List.of(SessionListener.IDLE), listener.endReasons());
        assertEquals(100, e.view(null).used());
    }

    @Test
    void keptUsageOfAWindowThatPassedIsDropped() {
        BudgetEngine e = engine(1000L, Duration.ofHours(1));
        assertNull(call(e, 900, 0)); // 10:15
        clock.advanceMillis(IDLE); // 10:30
        assertEquals(1, e.releaseIdle(IDLE));
        assertEquals(1, e.keptScopes());
        assertEquals(900, e.view(null).used(), "same window: kept");
        clock.advanceMillis(30 * MINUTE); // 11:00, the next window
        assertEquals(0, e.releaseIdle(IDLE));
        assertEquals(0, e.keptScopes(), "dropped at the window boundary");
        assertEquals(0, e.view(null).used());
        assertNull(call(e, 10, 0));
        assertEquals(10, e.view(null).used());
    }

    @Test
    void usageOfAWindowThatPassedWhileIdleIsNotKept() {
        BudgetEngine e = engine(1000L, Duration.ofHours(1));
        clock.advanceMillis(40 * MINUTE); // 10:55
        assertNull(call(e, 900, 0));
        clock.advanceMillis(IDLE); // 11:10: the instance still holds 10:00-11:00
        assertEquals(1, e.releaseIdle(IDLE));
        assertEquals(0, e.keptScopes());
        assertNull(call(e, 5, 0));
        assertEquals(5, e.view(null).used());
    }

    @Test
    void anIdleThreadStillShowsInTopScopesStateAndTotalsAndCanBeReset() {
        BudgetEngine e = engine(1000L, Duration.ofHours(1));
        assertNull(call(e, 600, 300));
        clock.advanceMillis(IDLE);
        assertEquals(1, e.releaseIdle(IDLE));
        String key = myKey();
        assertEquals(List.of(new ScopeUtilization("default", key, 0.9)), e.mostUtilized(5));
        assertEquals(new BudgetState("default", key, 900, 1000), e.state("default", key));
        assertEquals(900, e.totalUsed("default"));
        assertTrue(e.holdsScope(key));
        BudgetView v = e.view(null);
        assertEquals(key, v.scopeKey());
        assertEquals(900, v.used());

        assertEquals(1, e.resetScope(key), "the kept usage is dropped");
        assertEquals(0, e.keptScopes());
        assertFalse(e.holdsScope(key));
        assertNull(e.state("default", key));
        assertEquals(0, e.totalUsed("default"));
        assertEquals(List.of(), e.mostUtilized(5));
        assertNull(call(e, 10, 0));
        assertEquals(10, e.view(null).used());
    }

    @Test
    void aThreadThatEndsWhileLiveEndsItsSessionAsThreadEndAndAnIdleOneEndsNothingTwice() throws Exception {
        BudgetEngine e = engine(1000L, null);
        runOnThread("live-then-ended", () -> assertNull(call(e, 10, 10)));
        runOnThread("idle-then-ended", () -> {
            assertNull(call(e, 20, 20));
            clock.advanceMillis(IDLE);
            assertEquals(1, e.releaseIdle(IDLE), "this thread is alive and idle; the other has ended");
            assertEquals(1, e.keptScopes());
        });
        assertEquals(List.of(SessionListener.IDLE), listener.endReasons());
        assertEquals(1, e.reapEndedThreads(), "only the live instance is left to release");
        assertEquals(List.of(SessionListener.IDLE, SessionListener.THREAD_END), listener.endReasons());
        assertEquals(0, e.keptScopes(), "what the ended thread kept goes with it");
        assertEquals(0, e.liveScopes());
        assertEquals(0, e.totalUsed("default"));
        assertEquals(2, listener.started.size());
        for (Map.Entry<String, AtomicInteger> c : listener.endCount.entrySet()) {
            assertEquals(1, c.getValue().get(), "session " + c.getKey() + " ended once");
        }
    }

    @Test
    void aCallFinishingOnAnotherThreadAfterItsThreadWasReleasedIsChargedToTheThreadsNewSession() throws Exception {
        BudgetEngine e = engine(1000L, null);
        CountDownLatch charged = new CountDownLatch(1);
        CountDownLatch checked = new CountDownLatch(1);
        AtomicReference<CallScope> started = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread owner = new Thread(() -> {
            try {
                assertNull(call(e, 100, 0));
                CallScope s = e.enter();
                assertNull(e.check(s));
                started.set(s);
                checked.countDown();
                assertTrue(charged.await(WAIT_SECONDS, TimeUnit.SECONDS));
                assertEquals(150, e.view(null).used(), "100 before + 50 charged after the release");
            } catch (Throwable x) {
                failure.set(x);
            }
        }, "owner");
        owner.start();
        assertTrue(checked.await(WAIT_SECONDS, TimeUnit.SECONDS));
        clock.advanceMillis(IDLE);
        assertEquals(1, e.releaseIdle(IDLE));
        CallScope s = started.get();
        e.charge(s, 30, 20, null); // the response arrives on this thread
        assertEquals(2, listener.started.size(), "charged in a new session of the owner's scope");
        assertEquals("owner", s.session().threadName());
        assertEquals(50, s.session().inputTokens() + s.session().outputTokens());
        charged.countDown();
        owner.join();
        assertNull(failure.get());
    }

    @Test
    void aCallFinishingAfterItsIdleThreadEndedIsNotBroughtBack() throws Exception {
        BudgetEngine e = engine(1000L, null);
        CallScope s = onThread("gone", () -> {
            assertNull(call(e, 100, 0));
            CallScope pending = e.enter();
            assertNull(e.check(pending));
            clock.advanceMillis(IDLE);
            assertEquals(1, e.releaseIdle(IDLE));
            return pending;
        });
        assertEquals(0, e.reapEndedThreads());
        e.charge(s, 30, 20, null);
        assertEquals(1, listener.started.size(), "no session for a thread that has ended");
        assertEquals(0, e.liveScopes());
        assertEquals(0, e.keptScopes());
    }

    /**
     * The sweep releases the thread's instance between the call's {@code enter} and its charge (the charge's first
     * clock read is held until the release is done): the charge finds the instance retired and goes to the instance
     * that brings the kept usage back, once.
     */
    @Test
    void aChargeThatStartsAsTheInstanceIsReleasedIsCountedOnceInTheNextSession() throws Exception {
        BudgetEngine e = engine(1000L, null);
        AtomicReference<CallScope> slow = new AtomicReference<>();
        Thread worker = worker("worker", () -> {
            assertNull(call(e, 200, 0));
            CallScope s = e.enter();
            assertNull(e.check(s));
            slow.set(s);
            clock.pauseNextRead();
            e.charge(s, 30, 20, null);
        });
        assertTrue(clock.paused.await(WAIT_SECONDS, TimeUnit.SECONDS));
        clock.advanceMillis(IDLE);
        assertEquals(1, e.releaseIdle(IDLE), "the worker's call is between enter and charge, with no reservation");
        assertEquals(List.of(SessionListener.IDLE), listener.endReasons());
        assertEquals(200, listener.ended.peek().input(), "the first session without the late charge");
        clock.resume.countDown();
        worker.join();
        assertNull(failures.get());
        assertEquals(2, listener.started.size());
        Session second = slow.get().session();
        assertNotEquals(listener.started.peek().id(), second.id());
        assertEquals(50, second.inputTokens() + second.outputTokens());
        assertEquals(250, e.totalUsed("default"), "200 kept + 50, once");
        assertEquals(1, e.liveScopes());
        assertEquals(0, e.keptScopes());
    }

    /**
     * The thread calls again while the sweep is still ending its session (the listener holds the sweep in
     * {@code sessionEnded}): its instance is already out and its usage kept, so the call brings it back in a new
     * session; the old session's totals do not move.
     */
    @Test
    void aCallWhileTheSweepIsEndingTheSessionStartsTheNextSessionFromTheKeptUsage() throws Exception {
        CountDownLatch ending = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        AtomicBoolean hold = new AtomicBoolean(true);
        SessionListener holding = new SessionListener() {
            @Override
            public void sessionStarted(Session session) {
                listener.sessionStarted(session);
            }

            @Override
            public void sessionEnded(Session session, String reason) {
                if (IDLE_REASON.equals(reason) && hold.compareAndSet(true, false)) {
                    ending.countDown();
                    await(finish);
                }
                listener.sessionEnded(session, reason);
            }
        };
        BudgetEngine e = engine(1000L, null, holding);
        assertNull(call(e, 300, 100));
        Session first = listener.started.peek();
        clock.advanceMillis(IDLE);
        AtomicInteger released = new AtomicInteger(-1);
        Thread sweeper = worker("sweeper", () -> released.set(e.releaseIdle(IDLE)));
        assertTrue(ending.await(WAIT_SECONDS, TimeUnit.SECONDS));

        CallScope next = e.enter();
        assertNotSame(first, next.session());
        assertNull(e.check(next));
        e.charge(next, 50, 50, null);
        assertEquals(500, e.view(null).used(), "400 kept + 100");
        finish.countDown();
        sweeper.join();
        assertNull(failures.get());
        assertEquals(1, released.get());
        assertEquals(List.of(SessionListener.IDLE), listener.endReasons());
        assertEquals(300, listener.endOf(first).input());
        assertEquals(100, listener.endOf(first).output());
        assertEquals(100, next.session().inputTokens() + next.session().outputTokens());
        assertEquals(1, e.liveScopes());
    }

    /**
     * Four threads call on their own scopes while a sweeper releases them over and over (the clock jumps past the
     * idle time before each sweep, so calls are caught between look-up and charge); then all four are released and
     * each calls once more. No token is lost or counted twice, in the budget or in the sessions.
     */
    @Test
    void callsRacingTheSweepAreCountedExactlyOnce() throws Exception {
        BudgetEngine e = engine(1_000_000_000L, null);
        int threads = 4;
        int callsEach = 20_000;
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        CountDownLatch releasedAll = new CountDownLatch(1);
        CountDownLatch calledAgain = new CountDownLatch(threads);
        CountDownLatch end = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long[] usedEach = new long[threads];
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int me = t;
            Thread w = new Thread(() -> {
                try {
                    go.await();
                    for (int i = 0; i < callsEach; i++) {
                        assertNull(call(e, 2, 1));
                    }
                    done.countDown();
                    await(releasedAll);
                    assertNull(call(e, 2, 1));
                    usedEach[me] = e.view(null).used();
                    calledAgain.countDown();
                    await(end);
                } catch (Throwable x) {
                    failure.set(x);
                    done.countDown();
                    calledAgain.countDown();
                }
            }, "caller-" + t);
            w.start();
            workers.add(w);
        }
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger sweeps = new AtomicInteger();
        Thread sweeper = new Thread(() -> {
            while (!stop.get()) {
                clock.advanceMillis(IDLE);
                sweeps.addAndGet(e.releaseIdle(IDLE));
            }
        }, "sweeper");
        sweeper.start();
        go.countDown();
        assertTrue(done.await(5, TimeUnit.MINUTES));
        stop.set(true);
        sweeper.join();
        clock.advanceMillis(IDLE);
        int last = e.releaseIdle(IDLE); // those the sweeper did not release after their last call
        assertEquals(threads, e.keptScopes(), "each caller is idle now");
        assertEquals(0, e.liveScopes());
        assertTrue(sweeps.get() + last >= threads, "each caller was released at least once");
        releasedAll.countDown();
        assertTrue(calledAgain.await(WAIT_SECONDS, TimeUnit.SECONDS));
        assertNull(failure.get());
        long calls = callsEach + 1L;
        assertEquals(threads, usedEach.length);
        for (long used : usedEach) {
            assertEquals(3 * calls, used);
        }
        assertEquals(3 * calls * threads, e.totalUsed("default"));
        end.countDown();
        for (Thread w : workers) {
            w.join();
        }
        assertEquals(threads, e.reapEndedThreads());
        e.close();
        long sessionTokens = 0;
        for (RecordingListener.Ended ended : listener.ended) {
            sessionTokens += ended.input() + ended.output();
        }
        assertEquals(3 * calls * threads, sessionTokens, "every charge is in exactly one session");
        assertEquals(listener.started.size(), listener.ended.size(), "every started session ended");
        assertTrue(listener.started.size() >= 2 * threads, "each caller had a session before and after the release");
        for (Map.Entry<String, AtomicInteger> c : listener.endCount.entrySet()) {
            assertEquals(1, c.getValue().get(), "session " + c.getKey() + " ended once");
        }
    }

    static final String IDLE_REASON = SessionListener.IDLE;

    static void await(CountDownLatch latch) {
        try {
            if (!latch.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError("latch not released in " + WAIT_SECONDS + " s");
            }
        } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
            throw new AssertionError(x);
        }
    }

    static void assertNotSame(Object a, Object b) {
        org.junit.jupiter.api.Assertions.assertNotSame(a, b);
    }

    interface Body {
        void run() throws Exception;
    }

    interface Supplier<T> {
        T get() throws Exception;
    }

    /** Starts {@code body} on a new thread; join it, then check {@link #failures}. */
    Thread worker(String name, Body body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable x) {
                failures.set(x);
            }
        }, name);
        t.start();
        return t;
    }

    final AtomicReference<Throwable> failures = new AtomicReference<>();

    /** Runs {@code body} on a thread of its own and waits for it to end. */
    static <T> T onThread(String name, Supplier<T> body) throws Exception {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                result.set(body.get());
            } catch (Throwable x) {
                failure.set(x);
            }
        }, name);
        t.start();
        t.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        return result.get();
    }

    static void runOnThread(String name, Body body) throws Exception {
        onThread(name, () -> {
            body.run();
            return null;
        });
    }

    /**
     * A {@link MutableClock} that can hold one thread at its next read: {@link #pauseNextRead()} on that thread arms
     * it; the read counts {@link #paused} down and waits for {@link #resume}, then reads the time as it is then.
     */
    static final class PausingClock extends Clock {
        final MutableClock time;
        final CountDownLatch paused = new CountDownLatch(1);
        final CountDownLatch resume = new CountDownLatch(1);
        private final ThreadLocal<Boolean> armed = ThreadLocal.withInitial(() -> false);

        PausingClock(MutableClock time) {
            this.time = time;
        }

        void pauseNextRead() {
            armed.set(true);
        }

        void advanceMillis(long ms) {
            time.advanceMillis(ms);
        }

        @Override
        public long millis() {
            if (armed.get()) {
                armed.set(false);
                paused.countDown();
                ThreadScopeIdleReleaseTest.await(resume);
            }
            return time.millis();
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis());
        }

        @Override
        public ZoneId getZone() {
            return time.getZone();
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException("tests use UTC");
        }
    }
}
