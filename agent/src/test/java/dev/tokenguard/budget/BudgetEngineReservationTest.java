package dev.tokenguard.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Reservation: admission while used + reserved < limit, waits for settlements, and no reservation ever leaks. */
class BudgetEngineReservationTest {
    static final double[] WARN = {0.75, 0.90, 0.95};
    static final long LONG_WAIT = TimeUnit.SECONDS.toNanos(60);

    final MutableClock clock = new MutableClock(Instant.parse("2025-03-10T10:15:00Z"));
    final RecordingListener listener = new RecordingListener();

    BudgetEngine engine(ScopeSpec scope, Long maxTokens, Double maxCost) {
        return new BudgetEngine(List.of(new BudgetSpec("default", scope, maxTokens, null, null, maxCost, null, WARN,
                EnforcementMode.ENFORCE)), clock, MdcSource.NONE, listener);
    }

    static Estimate tokens(long input, long output) {
        return new Estimate(input, output, 0);
    }

    /** Waits (without a time limit of its own) until {@code t} parks in a wait. */
    static void awaitWaiting(Thread t) {
        while (t.getState() != Thread.State.TIMED_WAITING && t.getState() != Thread.State.WAITING) {
            assertTrue(t.isAlive(), "the call ended instead of waiting");
            Thread.onSpinWait();
        }
    }

    @Test
    void aLoneCallerIsAdmittedWheneverUsedIsBelowTheLimitWhateverItReserves() {
        BudgetEngine e = engine(ScopeSpec.THREAD, 100L, null);
        CallScope s = e.enter();
        Admission a = e.reserve(s, tokens(10, 5_000), 0);
        assertTrue(a.admitted());
        assertFalse(a.reservation().forced(), "nothing else was in flight");
        e.charge(s, a.reservation(), 60, 39, null);
        Admission b = e.reserve(e.enter(), tokens(10, 5_000), 0);
        assertTrue(b.admitted(), "99 of 100 used: still admitted");
        e.charge(s, b.reservation(), 1, 1, null);
        Admission c = e.reserve(e.enter(), tokens(1, 1), LONG_WAIT);
        assertFalse(c.admitted());
        assertEquals(new Refusal("default", s.scopeKey(), 101, 100), c.refusal());
        assertEquals(0, e.reservedTokens(s, "default"));
        assertEquals(0, e.openReservations());
    }

    @Test
    void callsAreAdmittedAtOnceWhileUsedPlusReservedIsBelowTheLimit() {
        BudgetEngine e = engine(ScopeSpec.GLOBAL, 1_000L, null);
        CallScope s = e.enter();
        Admission a = e.reserve(s, tokens(100, 500), 0);
        Admission b = e.reserve(s, tokens(100, 500), 0);
        assertTrue(a.admitted() && !a.reservation().forced());
        assertTrue(b.admitted() && !b.reservation().forced(), "600 reserved < 1000");
        assertEquals(1_200, e.reservedTokens(s, "default"));
        Admission c = e.reserve(s, tokens(1, 1), 0);
        assertTrue(c.admitted(), "a thread that may not wait is decided on the settled numbers: 0 used < 1000");
        assertTrue(c.reservation().forced());
        assertEquals(1_202, e.reservedTokens(s, "default"));
        e.release(a.reservation());
        e.release(b.reservation());
        e.release(c.reservation());
        assertEquals(0, e.reservedTokens(s, "default"));
        assertEquals(0, e.openReservations());
    }

    @Test
    void aWaitingCallIsAdmittedOnceACallInFlightSettlesBelowItsReservation() throws Exception {
        BudgetEngine e = engine(ScopeSpec.GLOBAL, 1_000L, null);
        CallScope s = e.enter();
        Admission a = e.reserve(s, tokens(100, 500), 0);
        Admission b = e.reserve(s, tokens(100, 400), 0);
        AtomicReference<Admission> waited = new AtomicReference<>();
        Thread c = new Thread(() -> waited.set(e.reserve(e.enter(), tokens(100, 100), LONG_WAIT)), "waiter");
        c.start();
        awaitWaiting(c);
        assertNull(waited.get(), "1100 reserved covers the 1000 left: the call waits");
        e.charge(s, a.reservation(), 100, 50, null); // 150 used + 500 reserved < 1000
        c.join();
        assertTrue(waited.get().admitted());
        assertFalse(waited.get().reservation().forced(), "admitted on room left, not because the wait ran out");
        assertEquals(500 + 200, e.reservedTokens(s, "default"));
        e.release(b.reservation());
        e.release(waited.get().reservation());
        assertEquals(0, e.reservedTokens(s, "default"));
    }

    @Test
    void aWaitingCallIsRefusedWhenTheCallsInFlightUseTheBudgetUp() throws Exception {
        BudgetEngine e = engine(ScopeSpec.GLOBAL, 1_000L, null);
        CallScope s = e.enter();
        Admission a = e.reserve(s, tokens(100, 900), 0);
        AtomicReference<Admission> waited = new AtomicReference<>();
        Thread c = new Thread(() -> waited.set(e.reserve(e.enter(), tokens(10, 10), LONG_WAIT)), "waiter");
        c.start();
        awaitWaiting(c);
        e.charge(s, a.reservation(), 400, 620, null);
        c.join();
        assertFalse(waited.get().admitted());
        assertEquals(1_020, waited.get().refusal().used(), "a refusal means the budget is used up");
        assertEquals(0, e.reservedTokens(s, "default"));
        assertEquals(0, e.openReservations());
    }

    @Test
    void aWaitingCallIsAdmittedWhenACallInFlightFailsAndReleasesItsReservation() throws Exception {
        BudgetEngine e = engine(ScopeSpec.GLOBAL, 1_000L, null);
        CallScope s = e.enter();
        Admission a = e.reserve(s, tokens(100, 900), 0);
        AtomicReference<Admission> waited = new AtomicReference<>();
        Thread c = new Thread(() -> waited.set(e.reserve(e.enter(), tokens(10, 10), LONG_WAIT)), "waiter");
        c.start();
        awaitWaiting(c);
        assertTrue(e.release(a.reservation()));
        c.join();
        assertTrue(waited.get().admitted());
        assertFalse(waited.get().reservation().forced());
        e.release(waited.get().reservation());
    }

    @Test
    void theWaitIsBoundedAndThenTheCallIsDecidedOnTheSettledNumbers() {
        BudgetEngine e = engine(ScopeSpec.GLOBAL, 1_000L, null);
        CallScope s = e.enter();
        Admission a = e.reserve(s, tokens(100, 900), 0);
        Admission late = e.reserve(s, tokens(10, 10), TimeUnit.MILLISECONDS.toNanos(30));
        assertTrue(late.admitted(), "0 used < 1000 once the wait ran out");
        assertTrue(late.reservation().forced());
        assertEquals(1_020, e.reservedTokens(s, "default"));
        e.release(a.reservation());
        e.release(late.reservation());
        assertEquals(0, e.openReservations());
    }

    @Test
    void anInterruptedWaiterIsDecidedAtOnce() throws Exception {
        BudgetEngine e = engine(ScopeSpec.GLOBAL, 1_000L, null);
        CallScope s = e.enter();
        Admission a = e.reserve(s, tokens(100, 900), 0);
        AtomicReference<Admission> waited = new AtomicReference<>();
        AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
        Thread c = new Thread(() -> {
            waited.set(e.reserve(e.enter(), tokens(10, 10), LONG_WAIT));
            stillInterrupted.set(Thread.currentThread().isInterrupted());
        }, "waiter");
        c.start();
        awaitWaiting(c);
        c.interrupt();
        c.join();
        assertTrue(waited.get().admitted());
        assertTrue(waited.get().reservation().forced());
        assertTrue(stillInterrupted.get(), "the interrupt is kept for the app");
        e.release(a.reservation());
        e.release(waited.get().reservation());
    }

    @Test
    void releasingTwiceOrChargingAfterARelease_givesBackOnce() {
        BudgetEngine e = engine(ScopeSpec.GLOBAL, 1_000L, null);
        CallScope s = e.enter();
        Admission a = e.reserve(s, tokens(100, 200), 0);
        Admission b = e.reserve(s, tokens(1, 2), 0);
        assertTrue(e.release(a.reservation()));
        assertFalse(e.release(a.reservation()));
        ChargeResult r = e.charge(s, a.reservation(), 40, 2, null);
        assertEquals(42, r.states().get(0).used(), "an abandoned call that ends after all is still charged");
        assertEquals(3, e.reservedTokens(s, "default"), "only b's reservation is left");
        e.charge(s, b.reservation(), 1, 1, null);
        assertEquals(0, e.reservedTokens(s, "default"));
        assertEquals(0, e.openReservations());
    }

    @Test
    void aReservationOlderThanTheCallsLifetimeIsReleased() {
        BudgetEngine e = engine(ScopeSpec.GLOBAL, 1_000L, null);
        CallScope s = e.enter();
        Object stream = new Object();
        Admission old = e.reserve(s, tokens(100, 200), 0);
        old.reservation().ownedBy(stream);
        clock.advanceMillis(60_000);
        Admission young = e.reserve(s, tokens(1, 2), 0);
        young.reservation().ownedBy(stream);
        assertEquals(List.of(), e.releaseAbandoned(120_000));
        clock.advanceMillis(60_001);
        List<Reservation> released = e.releaseAbandoned(120_000);
        assertEquals(1, released.size());
        assertEquals(old.reservation(), released.get(0));
        assertEquals(3, e.reservedTokens(s, "default"));
        assertEquals(1, e.openReservations());
        e.release(young.reservation());
        java.lang.ref.Reference.reachabilityFence(stream);
    }

    @Test
    void theReservationOfACallWhoseOwnerWasCollectedIsReleased() {
        BudgetEngine e = engine(ScopeSpec.GLOBAL, 1_000L, null);
        CallScope s = e.enter();
        Admission a = e.reserve(s, tokens(100, 200), 0);
        a.reservation().ownedBy(new Object()); // a stream the app dropped without closing it
        Object kept = new Object();
        Admission b = e.reserve(s, tokens(1, 2), 0);
        b.reservation().ownedBy(kept);
        List<Reservation> released = List.of();
        for (int i = 0; i < 50 && released.isEmpty(); i++) {
            System.gc();
            released = e.releaseAbandoned(Long.MAX_VALUE);
        }
        assertEquals(List.of(a.reservation()), released);
        assertEquals(3, e.reservedTokens(s, "default"));
        assertTrue(b.reservation().isOpen());
        e.release(b.reservation());
        java.lang.ref.Reference.reachabilityFence(kept);
    }

    @Test
    void costLimitsReserveThePricedEstimate() throws Exception {
        BudgetEngine e = engine(ScopeSpec.GLOBAL, null, 1.0);
        CallScope s = e.enter();
        Admission a = e.reserve(s, Estimate.of(10, 10, 0.6), 0);
        Admission b = e.reserve(s, Estimate.of(10, 10, 0.6), 0);
        assertTrue(a.admitted() && b.admitted() && !b.reservation().forced(), "$0.6 reserved < $1");
        AtomicReference<Admission> waited = new AtomicReference<>();
        Thread c = new Thread(() -> waited.set(e.reserve(e.enter(), Estimate.of(1, 1, 0.01), LONG_WAIT)), "waiter");
        c.start();
        awaitWaiting(c);
        e.charge(s, a.reservation(), 10, 10, 0.7);
        e.charge(s, b.reservation(), 10, 10, 0.5);
        c.join();
        assertFalse(waited.get().admitted());
        assertEquals(LimitKind.COST_NANO_USD, waited.get().refusal().kind());
        assertEquals(1_200_000_000L, waited.get().refusal().used());
    }

    @Test
    void aCallBlockedOnOneBudgetHoldsNothingInTheOthersWhileItWaits() throws Exception {
        BudgetEngine e = new BudgetEngine(List.of(
                new BudgetSpec("default", ScopeSpec.THREAD, 100_000L, null, null, null, null, WARN,
                        EnforcementMode.ENFORCE),
                new BudgetSpec("all", ScopeSpec.GLOBAL, 1_000L, null, null, null, null, WARN,
                        EnforcementMode.ENFORCE),
                new BudgetSpec("watch", ScopeSpec.GLOBAL, 10L, null, null, null, null, WARN,
                        EnforcementMode.WARN)), clock, MdcSource.NONE, listener);
        CallScope s = e.enter();
        Admission a = e.reserve(s, tokens(500, 500), 0);
        assertEquals(1_000, e.reservedTokens(s, "default"));
        assertEquals(0, e.reservedTokens(s, "watch"), "a budget that only warns reserves nothing");
        AtomicReference<CallScope> waiterScope = new AtomicReference<>();
        AtomicReference<Admission> waited = new AtomicReference<>();
        Thread c = new Thread(() -> {
            CallScope own = e.enter();
            waiterScope.set(own);
            waited.set(e.reserve(own, tokens(10, 10), LONG_WAIT));
        }, "waiter");
        c.start();
        awaitWaiting(c);
        assertEquals(0, e.reservedTokens(waiterScope.get(), "default"), "given back while waiting on 'all'");
        e.charge(s, a.reservation(), 100, 100, null);
        c.join();
        assertTrue(waited.get().admitted());
        assertEquals(20, e.reservedTokens(waiterScope.get(), "default"));
        assertEquals(20, e.reservedTokens(waiterScope.get(), "all"));
    }

    @Test
    void estimatesAreNeverNegative() {
        assertThrows(IllegalArgumentException.class, () -> new Estimate(-1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Estimate(0, 0, -1));
    }

    /**
     * 64 threads on one global budget, each call reserving what it will use at most: the budget is overshot by less
     * than one call, every refusal comes with the budget used up, and every reservation is given back.
     */
    @Test
    void sixtyFourThreadsOnOneGlobalBudgetOvershootByLessThanOneCall() throws Exception {
        long limit = 30_001;
        int threads = 64;
        long maxCall = 90 + 60;
        BudgetEngine e = engine(ScopeSpec.GLOBAL, limit, null);
        AtomicLong charged = new AtomicLong();
        ConcurrentLinkedQueue<Refusal> refusals = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Long> chargedAtRefusal = new ConcurrentLinkedQueue<>();
        BudgetEngineConcurrencyTest.runConcurrently(threads, "caller-", i -> {
            for (int n = 0; ; n++) {
                CallScope s = e.enter();
                Admission a = e.reserve(s, tokens(90, 60), LONG_WAIT);
                if (!a.admitted()) {
                    refusals.add(a.refusal());
                    chargedAtRefusal.add(charged.get());
                    return;
                }
                long input = 50 + (i * 7 + n) % 41;       // 50..90
                long output = 20 + (i * 13 + n * 3) % 41; // 20..60
                if ((i + n) % 9 == 0) {
                    e.release(a.reservation()); // a failed call: nothing charged
                    continue;
                }
                charged.addAndGet(input + output); // before the engine counts it: never behind the engine
                e.charge(s, a.reservation(), input, output, null);
            }
        });
        assertEquals(threads, refusals.size(), "every thread ends with one refusal");
        assertEquals(threads, chargedAtRefusal.size());
        for (long at : chargedAtRefusal) {
            assertTrue(at >= limit, "refused while only " + at + " of " + limit + " were charged");
        }
        long total = charged.get();
        assertTrue(total >= limit && total < limit + maxCall, "charged " + total + " against " + limit);
        CallScope s = e.enter();
        assertEquals(total, e.states(s).get(0).used(), "no token lost");
        assertEquals(0, e.reservedTokens(s, "default"));
        assertEquals(0, e.openReservations());
    }
}
