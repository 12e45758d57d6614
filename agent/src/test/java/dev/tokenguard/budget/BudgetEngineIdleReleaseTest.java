package dev.tokenguard.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** {@code mdc:} scope instances released after {@code tokenguard.budget.idle-release} without a call. */
class BudgetEngineIdleReleaseTest {
    static final Instant T0 = Instant.parse("2025-03-10T10:15:00Z");
    static final long IDLE = Duration.ofMinutes(15).toMillis();
    static final long MINUTE = 60_000;

    final MutableClock clock = new MutableClock(T0);
    final RecordingListener listener = new RecordingListener();
    final ThreadLocal<Map<String, String>> mdcMap = ThreadLocal.withInitial(HashMap::new);
    final MdcSource mdc = key -> mdcMap.get().get(key);

    BudgetEngine engine(Long maxTokens, Duration window) {
        return new BudgetEngine(List.of(new BudgetSpec("default", ScopeSpec.mdc("tenant"), maxTokens, null, null, null,
                window, new double[] {0.5}, EnforcementMode.ENFORCE)), clock, mdc, listener);
    }

    CallScope enterAs(BudgetEngine e, String tenant) {
        mdcMap.get().put("tenant", tenant);
        try {
            return e.enter();
        } finally {
            mdcMap.get().remove("tenant");
        }
    }

    /** enter + check + charge as one call of {@code tenant}; the refusal when refused. */
    Refusal call(BudgetEngine e, String tenant, long input, long output) {
        CallScope s = enterAs(e, tenant);
        Refusal r = e.check(s);
        if (r == null) {
            e.charge(s, input, output, null);
        }
        return r;
    }

    long used(BudgetEngine e, String tenant) {
        return e.states(enterAs(e, tenant)).get(0).used();
    }

    @Test
    void idleInstanceEndsItsSessionAndItsUsageIsKeptForTheNextCall() {
        BudgetEngine e = engine(1000L, null);
        assertNull(call(e, "acme", 600, 300));
        Session first = listener.started.peek();
        assertNotNull(first);

        listener.assertReleasedOnceAfterIdle(e, clock::advanceMillis, IDLE, first, 600, 300);

        clock.advanceMillis(60 * MINUTE); // no window: kept however long the value stays away
        assertEquals(0, e.releaseIdle(IDLE));
        CallScope next = enterAs(e, "acme");
        assertEquals("mdc:tenant=acme", next.scopeKey());
        assertNotEquals(first.id(), next.session().id(), "a new session");
        assertNull(e.check(next), "900 of 1000 used");
        e.charge(next, 70, 30, null);
        assertEquals(1000, used(e, "acme"), "900 kept + 100");
        assertEquals(0, e.keptScopes());
        assertEquals(1, e.liveScopes());
        Refusal refused = call(e, "acme", 1, 1);
        assertNotNull(refused);
        assertEquals(1000, refused.used());
        assertEquals(1000, refused.limit());
        assertEquals(List.of(0L, 0L), new ArrayList<>(listener.tokensAtStart));
        assertEquals(2, listener.started.size());
        assertEquals(100, next.session().inputTokens() + next.session().outputTokens(), "the new session's own");
    }

    @Test
    void anExhaustedValueStaysRefusedAfterItsRelease() {
        BudgetEngine e = engine(500L, null);
        assertNull(call(e, "acme", 400, 100));
        assertNull(call(e, "globex", 10, 10));
        clock.advanceMillis(IDLE);
        assertEquals(2, e.releaseIdle(IDLE));
        assertEquals(2, e.keptScopes());

        Refusal r = call(e, "acme", 1, 1);
        assertNotNull(r, "the first call after the release sees the 500 kept");
        assertEquals(500, r.used());
        assertEquals(500, r.limit());
        assertEquals(20, used(e, "globex"));
        assertNull(call(e, "globex", 1, 1));
        assertEquals(22, used(e, "globex"));
    }

    @Test
    void thresholdsReportedBeforeTheReleaseAreNotReportedAgain() {
        BudgetEngine e = engine(100L, null);
        CallScope s = enterAs(e, "acme");
        assertEquals(1, e.charge(s, 60, 0, null).crossings().size(), "50 % crossed");
        clock.advanceMillis(IDLE);
        assertEquals(1, e.releaseIdle(IDLE));
        CallScope again = enterAs(e, "acme");
        assertEquals(0, e.charge(again, 10, 0, null).crossings().size());
        assertEquals(70, used(e, "acme"));
    }

    @Test
    void aValueWithAReservationOpenIsNotIdle() {
        BudgetEngine e = engine(1000L, null);
        CallScope s = enterAs(e, "acme");
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
        assertEquals(100, used(e, "acme"));
    }

    @Test
    void aCallInFlightAcrossTheReleaseIsChargedToTheKeptUsage() {
        BudgetEngine e = engine(1000L, null);
        assertNull(call(e, "acme", 200, 0));
        CallScope slow = enterAs(e, "acme");
        assertNull(e.check(slow));
        clock.advanceMillis(IDLE);
        assertEquals(1, e.releaseIdle(IDLE));
        e.charge(slow, 30, 20, null);
        assertEquals(250, used(e, "acme"), "200 kept + 50 charged after the release");
        assertEquals(2, listener.started.size(), "charged in a new session");
        assertEquals(50, slow.session().inputTokens() + slow.session().outputTokens());
        assertEquals(1, e.liveScopes());
        assertEquals(0, e.keptScopes());
    }

    @Test
    void keptUsageOfAPastWindowIsDropped() {
        BudgetEngine e = engine(1000L, Duration.ofHours(1));
        assertNull(call(e, "acme", 900, 0)); // 10:15
        clock.advanceMillis(IDLE); // 10:30
        assertEquals(1, e.releaseIdle(IDLE));
        assertEquals(1, e.keptScopes());
        assertEquals(900, used(e, "acme"), "same window: kept");
        clock.advanceMillis(IDLE); // 10:45
        assertEquals(1, e.releaseIdle(IDLE));
        clock.advanceMillis(15 * MINUTE); // 11:00, the next window
        assertEquals(0, e.releaseIdle(IDLE));
        assertEquals(0, e.keptScopes(), "dropped at the window boundary");
        assertEquals(0, used(e, "acme"));
        assertNull(call(e, "acme", 10, 0));
        assertEquals(10, used(e, "acme"));
    }

    @Test
    void usageOfAWindowThatPassedWhileIdleIsNotKept() {
        BudgetEngine e = engine(1000L, Duration.ofHours(1));
        clock.advanceMillis(40 * MINUTE); // 10:55
        assertNull(call(e, "acme", 900, 0));
        clock.advanceMillis(IDLE); // 11:10: the instance still holds 10:00-11:00
        assertEquals(1, e.releaseIdle(IDLE));
        assertEquals(0, e.keptScopes());
        assertNull(call(e, "acme", 5, 0));
        assertEquals(5, used(e, "acme"));
    }

    @Test
    void theThreadScopeAnMdcBudgetFellBackToIsReleasedLikeAValue() {
        BudgetEngine e = engine(1000L, null);
        CallScope s = e.enter(); // no MDC value: the thread's scope
        e.charge(s, 1, 1, null);
        clock.advanceMillis(IDLE * 4);
        assertEquals(0, e.releaseIdle(0), "0 releases nothing");
        assertEquals(1, e.releaseIdle(IDLE));
        assertEquals(0, e.liveScopes());
        assertEquals(1, e.keptScopes());
        assertEquals(List.of(SessionListener.IDLE), listener.endReasons());
        CallScope again = e.enter();
        assertEquals(s.scopeKey(), again.scopeKey());
        assertEquals(2, e.states(again).get(0).used(), "the thread's kept usage");
    }

    /**
     * Calls of one MDC value on four threads while the sweep releases it over and over (the clock jumps past the idle
     * time before each sweep, so calls are caught between look-up and charge): no token is lost or counted twice.
     */
    @Test
    void callsRacingTheSweepAreCountedExactlyOnce() throws Exception {
        BudgetEngine e = engine(1_000_000_000L, null);
        int threads = 4;
        int callsEach = 20_000;
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                try {
                    go.await();
                    for (int i = 0; i < callsEach; i++) {
                        assertNull(call(e, "acme", 2, 1));
                    }
                } catch (Throwable x) {
                    failure.set(x);
                }
            }, "caller-" + t);
            w.start();
            workers.add(w);
        }
        AtomicBoolean done = new AtomicBoolean();
        int[] sweeps = new int[1];
        Thread sweeper = new Thread(() -> {
            while (!done.get()) {
                clock.advanceMillis(IDLE);
                sweeps[0] += e.releaseIdle(IDLE);
            }
        }, "sweeper");
        sweeper.start();
        go.countDown();
        for (Thread w : workers) {
            w.join();
        }
        done.set(true);
        sweeper.join();
        assertNull(failure.get());
        long calls = (long) threads * callsEach;
        assertEquals(3 * calls, used(e, "acme"));
        e.close();
        long sessionTokens = 0;
        for (RecordingListener.Ended end : listener.ended) {
            sessionTokens += end.input() + end.output();
        }
        assertEquals(3 * calls, sessionTokens, "every charge is in exactly one session");
        assertEquals(listener.started.size(), listener.ended.size(), "every started session ended");
        assertTrue(sweeps[0] > 0, "the sweep released the value at least once");
        for (Map.Entry<String, java.util.concurrent.atomic.AtomicInteger> c : listener.endCount.entrySet()) {
            assertEquals(1, c.getValue().get(), "session " + c.getKey() + " ended once");
        }
    }
    @Test
    void anIdleHeavySpenderStillShowsInTopScopesStateAndTotalsUntilItsWindowPasses() {
        BudgetEngine e = engine(1000L, Duration.ofHours(1));
        assertNull(call(e, "heavy", 600, 300)); // 900 of 1000
        assertNull(call(e, "light", 50, 50)); // 100 of 1000
        clock.advanceMillis(IDLE);
        assertNull(call(e, "light", 50, 50)); // light stays live: 200 of 1000
        assertEquals(1, e.releaseIdle(IDLE), "heavy, idle for 15 minutes");
        assertEquals(1, e.keptScopes());

        List<ScopeUtilization> top = e.mostUtilized(5);
        assertEquals(2, top.size(), top::toString);
        assertEquals(new ScopeUtilization("default", "mdc:tenant=heavy", 0.9), top.get(0));
        assertEquals(new ScopeUtilization("default", "mdc:tenant=light", 0.2), top.get(1));
        assertEquals(new BudgetState("default", "mdc:tenant=heavy", 900, 1000), e.state("default", "mdc:tenant=heavy"));
        assertEquals(1100, e.totalUsed("default"), "900 kept + 200 live");
        assertTrue(e.holdsScope("mdc:tenant=heavy"));

        assertNull(call(e, "heavy", 10, 0), "back in use, starting from 900");
        top = e.mostUtilized(5);
        assertEquals(2, top.size(), "counted once, as the live instance: " + top);
        assertEquals(new ScopeUtilization("default", "mdc:tenant=heavy", 0.91), top.get(0));
        assertEquals(1110, e.totalUsed("default"));

        clock.advanceMillis(IDLE);
        assertEquals(2, e.releaseIdle(IDLE));
        assertEquals(1, e.resetScope("mdc:tenant=heavy"), "an idle value's kept usage can be reset");
        assertEquals(1, e.keptScopes(), "only light's is left");
        assertFalse(e.holdsScope("mdc:tenant=heavy"));
        assertNull(e.state("default", "mdc:tenant=heavy"));
        assertEquals(200, e.totalUsed("default"));

        clock.set(T0.plus(Duration.ofHours(1))); // the next window: what light kept is of a window that passed
        assertEquals(List.of(), e.mostUtilized(5));
        assertEquals(0, e.totalUsed("default"));
        assertFalse(e.holdsScope("mdc:tenant=light"));
    }
}
