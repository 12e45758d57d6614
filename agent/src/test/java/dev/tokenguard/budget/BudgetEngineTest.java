package dev.tokenguard.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class BudgetEngineTest {
    static final double[] WARN = {0.75, 0.90, 0.95};
    static final Instant T0 = Instant.parse("2025-03-10T10:15:00Z");

    final MutableClock clock = new MutableClock(T0);
    final RecordingListener listener = new RecordingListener();
    final ThreadLocal<Map<String, String>> mdcMap = ThreadLocal.withInitial(HashMap::new);
    final MdcSource mdc = key -> mdcMap.get().get(key);

    static BudgetSpec tokens(String name, ScopeSpec scope, long max) {
        return new BudgetSpec(name, scope, max, null, null, null, null, WARN, EnforcementMode.ENFORCE);
    }

    static BudgetSpec spec(String name, ScopeSpec scope, Long max, Long in, Long out, Double cost,
                           Duration window, EnforcementMode mode) {
        return new BudgetSpec(name, scope, max, in, out, cost, window, WARN, mode);
    }

    BudgetEngine engine(BudgetSpec... specs) {
        return new BudgetEngine(List.of(specs), clock, mdc, listener);
    }

    static String threadKey(Thread t) {
        return "thread:" + t.getName() + "#" + t.getId();
    }

    static <T> T onThread(String name, java.util.function.Supplier<T> work) throws InterruptedException {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                result.set(work.get());
            } catch (Throwable e) {
                failure.set(e);
            }
        }, name);
        t.start();
        t.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        return result.get();
    }

    // ---- scope keys

    @Test
    void threadScopeKeyIsNameAndId() throws Exception {
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 1000));
        assertEquals(threadKey(Thread.currentThread()), e.enter().scopeKey());
        String[] seen = onThread("worker-3", () -> {
            CallScope s = e.enter();
            return new String[] {s.scopeKey(), threadKey(Thread.currentThread())};
        });
        assertEquals(seen[1], seen[0]);
        assertTrue(seen[0].startsWith("thread:worker-3#"), seen[0]);
    }

    @Test
    void sameThreadGetsSameInstanceAndSession() {
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 1000));
        CallScope a = e.enter();
        CallScope b = e.enter();
        assertSame(a.session(), b.session());
        e.charge(a, 10, 5, null);
        e.charge(b, 1, 1, null);
        assertEquals(new BudgetState("default", a.scopeKey(), 17, 1000), e.states(b).get(0));
        assertEquals(1, e.liveScopes());
    }

    @Test
    void globalScopeIsSharedByAllThreads() throws Exception {
        BudgetEngine e = engine(tokens("default", ScopeSpec.GLOBAL, 1000));
        CallScope mine = e.enter();
        assertEquals("global", mine.scopeKey());
        String other = onThread("other", () -> {
            CallScope s = e.enter();
            e.charge(s, 30, 20, null);
            return s.session().id();
        });
        e.charge(mine, 1, 2, null);
        assertEquals(53, e.states(mine).get(0).used());
        assertEquals(mine.session().id(), other);
        assertEquals(1, listener.started.size());
    }

    @Test
    void mdcScopeKeyAndFallbackToThread() throws Exception {
        BudgetEngine e = engine(tokens("default", ScopeSpec.mdc("tenant"), 1000));
        mdcMap.get().put("tenant", "acme");
        CallScope acme = e.enter();
        assertEquals("mdc:tenant=acme", acme.scopeKey());
        mdcMap.get().put("tenant", "");
        assertEquals(threadKey(Thread.currentThread()), e.enter().scopeKey());
        mdcMap.get().remove("tenant");
        CallScope absent = e.enter();
        assertEquals(threadKey(Thread.currentThread()), absent.scopeKey());

        // the same MDC value on another thread is the same instance
        String otherKey = onThread("other", () -> {
            mdcMap.get().put("tenant", "acme");
            CallScope s = e.enter();
            e.charge(s, 100, 0, null);
            return s.scopeKey();
        });
        assertEquals("mdc:tenant=acme", otherKey);
        e.charge(absent, 7, 0, null);
        assertEquals(100, e.states(acme).get(0).used());
        assertEquals(7, e.states(absent).get(0).used());
        mdcMap.get().put("tenant", "globex");
        assertEquals("mdc:tenant=globex", e.enter().scopeKey());
        assertEquals(3, e.liveScopes());
    }

    @Test
    void mdcSourceNoneAlwaysFallsBack() {
        assertNull(MdcSource.NONE.get("tenant"));
        BudgetEngine e = new BudgetEngine(List.of(tokens("default", ScopeSpec.mdc("tenant"), 10)), clock,
                MdcSource.NONE, listener);
        assertEquals(threadKey(Thread.currentThread()), e.enter().scopeKey());
    }

    // ---- thresholds

    @Test
    void thresholdsAreReportedOnceEachInOrderAtExactValues() {
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 100));
        CallScope s = e.enter();
        String key = s.scopeKey();
        assertEquals(List.of(), e.charge(s, 70, 4, null).crossings());
        assertEquals(List.of(new ThresholdCrossing("default", key, 0.75, 75, 100)),
                e.charge(s, 1, 0, null).crossings());
        assertEquals(List.of(), e.charge(s, 10, 4, null).crossings()); // 89
        assertEquals(List.of(new ThresholdCrossing("default", key, 0.90, 90, 100)),
                e.charge(s, 0, 1, null).crossings());
        assertEquals(List.of(new ThresholdCrossing("default", key, 0.95, 97, 100)),
                e.charge(s, 5, 2, null).crossings());
        assertEquals(List.of(), e.charge(s, 50, 50, null).crossings());
    }

    @Test
    void oneChargeCanCrossSeveralThresholdsInAscendingOrder() {
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 1000));
        CallScope s = e.enter();
        String key = s.scopeKey();
        ChargeResult r = e.charge(s, 900, 60, null);
        assertEquals(List.of(new ThresholdCrossing("default", key, 0.75, 960, 1000),
                new ThresholdCrossing("default", key, 0.90, 960, 1000),
                new ThresholdCrossing("default", key, 0.95, 960, 1000)), r.crossings());
    }

    @Test
    void thresholdBoundariesAreExact() {
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 1000));
        CallScope s = e.enter();
        assertEquals(List.of(), e.charge(s, 749, 0, null).crossings());
        assertEquals(0.75, e.charge(s, 1, 0, null).crossings().get(0).threshold());
        assertEquals(List.of(), e.charge(s, 149, 0, null).crossings()); // 899
        assertEquals(900, e.charge(s, 1, 0, null).crossings().get(0).used());

        // a fraction that is not exact in binary: 0.1 of 30 is crossed at 3, not 4
        BudgetEngine tenth = new BudgetEngine(List.of(new BudgetSpec("default", ScopeSpec.THREAD, 30L, null, null,
                null, null, new double[] {0.1}, EnforcementMode.ENFORCE)), clock, mdc, listener);
        CallScope t = tenth.enter();
        assertEquals(List.of(), tenth.charge(t, 2, 0, null).crossings());
        assertEquals(1, tenth.charge(t, 1, 0, null).crossings().size());
    }

    @Test
    void noCrossingsIsASharedEmptyList() {
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 1_000_000));
        CallScope s = e.enter();
        List<ThresholdCrossing> a = e.charge(s, 1, 1, null).crossings();
        List<ThresholdCrossing> b = e.charge(s, 1, 1, null).crossings();
        assertTrue(a.isEmpty());
        assertSame(a, b);
    }

    @Test
    void thresholdsOnInputDimensionReportThatDimensionAndCountOncePerBudget() {
        BudgetEngine e = engine(spec("default", ScopeSpec.THREAD, 100L, 50L, null, null, null,
                EnforcementMode.ENFORCE));
        CallScope s = e.enter();
        String key = s.scopeKey();
        assertEquals(List.of(new ThresholdCrossing("default", key, 0.75, 40, 50, LimitKind.INPUT_TOKENS)),
                e.charge(s, 40, 0, null).crossings());
        // the total now crosses 0.75 too, but 0.75 was already reported for this budget
        assertEquals(List.of(), e.charge(s, 0, 40, null).crossings());
        // total 90 of 100 and input 45 of 50 both cross 0.90: reported once, total first
        assertEquals(List.of(new ThresholdCrossing("default", key, 0.90, 90, 100, LimitKind.TOTAL_TOKENS)),
                e.charge(s, 5, 5, null).crossings());
        // input 48 of 50 crosses 0.95 before the total (93 of 100) does
        assertEquals(List.of(new ThresholdCrossing("default", key, 0.95, 48, 50, LimitKind.INPUT_TOKENS)),
                e.charge(s, 3, 0, null).crossings());
    }

    @Test
    void costThresholdsUseNanoUsd() {
        BudgetEngine e = engine(spec("default", ScopeSpec.THREAD, null, null, null, 2.0, null,
                EnforcementMode.ENFORCE));
        CallScope s = e.enter();
        assertEquals(List.of(), e.charge(s, 10, 10, 1.49).crossings());
        assertEquals(List.of(new ThresholdCrossing("default", s.scopeKey(), 0.75, 1_500_000_000L, 2_000_000_000L,
                LimitKind.COST_NANO_USD)), e.charge(s, 1, 1, 0.01).crossings());
        assertEquals(1.50, s.session().costUsd(), 1e-12);
    }

    // ---- exhaustion

    @Test
    void exhaustedOnTotal() {
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 100));
        CallScope s = e.enter();
        e.charge(s, 60, 39, null);
        assertNull(e.check(s));
        e.charge(s, 0, 1, null);
        assertEquals(new Refusal("default", s.scopeKey(), 100, 100), e.check(e.enter()));
    }

    @Test
    void exhaustedOnInputOnly() {
        BudgetEngine e = engine(spec("default", ScopeSpec.THREAD, 1000L, 50L, null, null, null,
                EnforcementMode.ENFORCE));
        CallScope s = e.enter();
        e.charge(s, 49, 500, null);
        assertNull(e.check(s));
        e.charge(s, 1, 0, null);
        assertEquals(new Refusal("default", s.scopeKey(), 50, 50, LimitKind.INPUT_TOKENS), e.check(s));
    }

    @Test
    void exhaustedOnOutputOnly() {
        BudgetEngine e = engine(spec("default", ScopeSpec.THREAD, null, null, 20L, null, null,
                EnforcementMode.ENFORCE));
        CallScope s = e.enter();
        e.charge(s, 5000, 19, null);
        assertNull(e.check(s));
        e.charge(s, 0, 3, null);
        assertEquals(new Refusal("default", s.scopeKey(), 22, 20, LimitKind.OUTPUT_TOKENS), e.check(s));
    }

    @Test
    void exhaustedOnCost() {
        BudgetEngine e = engine(spec("default", ScopeSpec.THREAD, null, null, null, 0.30, null,
                EnforcementMode.ENFORCE));
        CallScope s = e.enter();
        e.charge(s, 1, 1, 0.1);
        e.charge(s, 1, 1, 0.1);
        e.charge(s, 1, 1, null); // unpriced calls add no cost
        assertNull(e.check(s));
        e.charge(s, 1, 1, 0.1); // 0.1 + 0.1 + 0.1 in binary floating point is 0.30000000000000004; nano-USD is exact
        assertEquals(new Refusal("default", s.scopeKey(), 300_000_000L, 300_000_000L, LimitKind.COST_NANO_USD),
                e.check(s));
    }

    @Test
    void aChargeCrossingTheLimitSucceedsAndTheNextCheckRefuses() {
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 100));
        CallScope s = e.enter();
        assertEquals(2, e.charge(s, 90, 0, null).crossings().size()); // 0.75 and 0.90
        assertNull(e.check(s));
        ChargeResult r = e.charge(s, 20, 10, null);
        assertEquals(List.of(new BudgetState("default", s.scopeKey(), 120, 100)), r.states());
        assertEquals(List.of(new ThresholdCrossing("default", s.scopeKey(), 0.95, 120, 100)), r.crossings());
        assertEquals(new Refusal("default", s.scopeKey(), 120, 100), e.check(e.enter()));
    }

    @Test
    void zeroLimitRefusesFromTheStart() {
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 0));
        CallScope s = e.enter();
        assertEquals(new Refusal("default", s.scopeKey(), 0, 0), e.check(s));
    }

    @Test
    void warnModeNeverRefusesButReportsThresholds() {
        BudgetEngine e = engine(spec("default", ScopeSpec.THREAD, 100L, 10L, 10L, 0.01, null, EnforcementMode.WARN));
        CallScope s = e.enter();
        ChargeResult r = e.charge(s, 500, 500, 5.0);
        assertEquals(3, r.crossings().size());
        assertNull(e.check(s));
        assertNull(e.check(e.enter()));
    }

    @Test
    void namedBudgetsAreChargedTogetherAndAnyEnforcingOneRefuses() throws Exception {
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 1000),
                tokens("team", ScopeSpec.GLOBAL, 100),
                spec("audit", ScopeSpec.GLOBAL, 10L, null, null, null, null, EnforcementMode.WARN));
        CallScope s = e.enter();
        ChargeResult r = e.charge(s, 40, 40, null);
        assertEquals(List.of(new BudgetState("default", s.scopeKey(), 80, 1000),
                new BudgetState("team", "global", 80, 100),
                new BudgetState("audit", "global", 80, 10)), r.states());
        assertEquals(List.of(new ThresholdCrossing("team", "global", 0.75, 80, 100),
                new ThresholdCrossing("audit", "global", 0.75, 80, 10),
                new ThresholdCrossing("audit", "global", 0.90, 80, 10),
                new ThresholdCrossing("audit", "global", 0.95, 80, 10)), r.crossings());
        assertNull(e.check(s)); // audit is exhausted but only warns
        e.charge(s, 10, 10, null);
        assertEquals(new Refusal("team", "global", 100, 100), e.check(s));
        // another thread has its own default budget but shares the exhausted global one
        Refusal other = onThread("other", () -> e.check(e.enter()));
        assertEquals(new Refusal("team", "global", 100, 100), other);
        assertEquals(List.of(new BudgetState("default", s.scopeKey(), 100, 1000),
                new BudgetState("team", "global", 100, 100),
                new BudgetState("audit", "global", 100, 10)), e.states(s));
        assertEquals("global", s.scopeKey("team"));
        assertNull(s.scopeKey("nope"));
    }

    @Test
    void firstExhaustedEnforcingBudgetIsReported() {
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 10), tokens("team", ScopeSpec.GLOBAL, 10));
        CallScope s = e.enter();
        e.charge(s, 10, 0, null);
        assertEquals("default", e.check(s).budgetName());
    }

    @Test
    void stateUsesTheClosestTokenLimitWithoutATotalLimit() {
        BudgetEngine e = engine(spec("default", ScopeSpec.THREAD, null, 100L, 50L, null, null, EnforcementMode.ENFORCE),
                spec("cost", ScopeSpec.THREAD, null, null, null, 5.0, null, EnforcementMode.ENFORCE));
        CallScope s = e.enter();
        ChargeResult r = e.charge(s, 10, 20, 0.5);
        assertEquals(new BudgetState("default", s.scopeKey(), 20, 50), r.states().get(0));
        assertEquals(new BudgetState("cost", s.scopeKey(), 30, -1), r.states().get(1));
        r = e.charge(s, 80, 0, null); // input 90/100 > output 20/50
        assertEquals(new BudgetState("default", s.scopeKey(), 90, 100), r.states().get(0));
    }

    @Test
    void chargeOnAnotherThreadChargesTheCallersInstances() throws Exception {
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 1000));
        CallScope s = e.enter();
        BudgetState state = onThread("async-completion", () -> e.charge(s, 12, 30, null).states().get(0));
        assertEquals(new BudgetState("default", threadKey(Thread.currentThread()), 42, 1000), state);
        assertEquals(42, e.states(e.enter()).get(0).used());
        assertEquals(12, s.session().inputTokens());
        assertEquals(30, s.session().outputTokens());
    }

    // ---- sessions

    @Test
    void sessionIdsAreReadableAndUnique() throws Exception {
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 1000));
        Session mine = e.enter().session();
        Session other = onThread("w", () -> e.enter().session());
        assertNotSame(mine, other);
        assertTrue(mine.id().matches("thread:.*#\\d+~p\\d+-[0-9a-z]+-\\d+"), mine.id());
        assertTrue(mine.id().startsWith(mine.scopeKey() + "~p" + ProcessHandle.current().pid() + "-"), mine.id());
        assertNotEquals(mine.id(), other.id());
        assertEquals(Thread.currentThread().getName(), mine.threadName());
        assertEquals(List.of(mine, other), new ArrayList<>(listener.started));
    }

    @Test
    void sessionStartsBeforeTheFirstCharge() {
        BudgetEngine e = engine(tokens("default", ScopeSpec.GLOBAL, 1000));
        CallScope s = e.enter();
        assertEquals(List.of(s.session()), new ArrayList<>(listener.started));
        e.charge(s, 1, 1, null);
        assertEquals(List.of(0L), new ArrayList<>(listener.tokensAtStart));
        assertEquals(1, listener.started.size());
    }

    @Test
    void namedBudgetsOpenNoSessions() {
        BudgetEngine e = engine(tokens("default", ScopeSpec.GLOBAL, 1000), tokens("per-thread", ScopeSpec.THREAD, 10));
        e.charge(e.enter(), 1, 1, null);
        assertEquals(1, listener.started.size());
        assertEquals("global", listener.started.peek().scopeKey());
        assertEquals(2, e.liveScopes());
    }

    // ---- windows

    @Test
    void hourWindowResetsUsageAtTheUtcBoundaryAndReportsThresholdsAgain() {
        clock.set(Instant.parse("2025-03-10T10:59:59.999Z"));
        BudgetEngine e = engine(spec("default", ScopeSpec.GLOBAL, 100L, null, null, null, Duration.ofHours(1),
                EnforcementMode.ENFORCE));
        CallScope s = e.enter();
        Session first = s.session();
        assertEquals(1, e.charge(s, 80, 0, null).crossings().size());
        e.charge(s, 20, 0, null);
        assertEquals(100, e.check(s).used());

        clock.set(Instant.parse("2025-03-10T11:00:00.000Z"));
        assertNull(e.check(s)); // the old window no longer counts, even before anything rolls it over
        assertEquals(0, e.states(s).get(0).used());
        assertEquals(List.of(), listener.endReasons());

        CallScope next = e.enter();
        assertNotSame(first, next.session());
        assertNotEquals(first.id(), next.session().id(), "the new window's session has an id of its own");
        assertEquals(List.of(SessionListener.WINDOW_RESET), listener.endReasons());
        RecordingListener.Ended end = listener.endOf(first);
        assertEquals(100, end.input());
        assertEquals(List.of(first, next.session()), new ArrayList<>(listener.started));

        ChargeResult r = e.charge(next, 80, 0, null);
        assertEquals(List.of(new ThresholdCrossing("default", "global", 0.75, 80, 100)), r.crossings());
        assertEquals(80, next.session().inputTokens());

        clock.set(Instant.parse("2025-03-10T11:59:59.999Z"));
        e.enter();
        assertEquals(1, listener.ended.size()); // same window still
    }

    @Test
    void dayWindowIsAlignedToMidnightUtc() {
        clock.set(Instant.parse("2025-03-10T23:59:00Z"));
        BudgetEngine e = engine(spec("default", ScopeSpec.THREAD, 10L, null, null, null, Duration.ofDays(1),
                EnforcementMode.ENFORCE));
        CallScope s = e.enter();
        e.charge(s, 10, 0, null);
        assertNotNull(e.check(s));
        clock.set(Instant.parse("2025-03-11T00:00:00Z"));
        assertNull(e.check(e.enter()));
        assertEquals(List.of(SessionListener.WINDOW_RESET), listener.endReasons());
    }

    @Test
    void namedBudgetWindowResetsWithoutSessions() {
        clock.set(Instant.parse("2025-03-10T10:30:00Z"));
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 1_000_000),
                spec("hourly", ScopeSpec.GLOBAL, 100L, null, null, null, Duration.ofHours(1), EnforcementMode.ENFORCE));
        CallScope s = e.enter();
        e.charge(s, 100, 0, null);
        assertEquals("hourly", e.check(s).budgetName());
        clock.set(Instant.parse("2025-03-10T11:00:00Z"));
        CallScope next = e.enter();
        assertNull(e.check(next));
        ChargeResult r = e.charge(next, 75, 0, null);
        assertEquals(new BudgetState("hourly", "global", 75, 100), r.states().get(1));
        assertEquals(new BudgetState("default", s.scopeKey(), 175, 1_000_000), r.states().get(0));
        assertEquals(1, r.crossings().size());
        assertEquals(List.of(), listener.endReasons()); // the default budget has no window
    }

    @Test
    void aChargeAfterTheBoundaryGoesToTheNewSession() {
        clock.set(Instant.parse("2025-03-10T10:59:00Z"));
        BudgetEngine e = engine(spec("default", ScopeSpec.GLOBAL, 100L, null, null, null, Duration.ofHours(1),
                EnforcementMode.ENFORCE));
        CallScope s = e.enter();
        Session before = s.session();
        e.charge(s, 5, 5, null);
        clock.set(Instant.parse("2025-03-10T11:00:01Z"));
        e.charge(s, 7, 3, null); // started in the old window, completed in the new one
        assertNotSame(before, s.session());
        assertNotEquals(before.id(), s.session().id(), "the new window's session has an id of its own");
        assertEquals(5, listener.endOf(before).input());
        assertEquals(7, s.session().inputTokens());
        assertEquals(List.of(before, s.session()), new ArrayList<>(listener.started));
        assertEquals(10, e.states(s).get(0).used());
    }

    // ---- lifecycle

    @Test
    void endedThreadIsReleasedAndItsSessionEnds() throws Exception {
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 1000), tokens("global", ScopeSpec.GLOBAL, 1000));
        CallScope mine = e.enter();
        Session theirs = onThread("short", () -> {
            CallScope s = e.enter();
            e.charge(s, 3, 4, null);
            return s.session();
        });
        assertEquals(3, e.liveScopes()); // two thread instances, one global
        assertEquals(1, e.reapEndedThreads());
        assertEquals(2, e.liveScopes());
        assertEquals(List.of(SessionListener.THREAD_END), listener.endReasons());
        assertSame(theirs, listener.ended.peek().session());
        assertEquals(7, listener.ended.peek().input() + listener.ended.peek().output());
        assertEquals(0, e.reapEndedThreads()); // this thread is alive
        assertNull(e.check(mine));
    }

    @Test
    void closeEndsEveryLiveSessionWithShutdown() throws Exception {
        BudgetEngine e = engine(tokens("default", ScopeSpec.mdc("tenant"), 1000), tokens("all", ScopeSpec.GLOBAL, 1000));
        mdcMap.get().put("tenant", "acme");
        CallScope acme = e.enter();
        mdcMap.get().remove("tenant");
        e.enter();
        Thread parked = new Thread(() -> e.charge(e.enter(), 1, 1, null), "still-alive");
        parked.start();
        parked.join();
        e.reapEndedThreads();
        assertEquals(List.of(SessionListener.THREAD_END), listener.endReasons());
        e.close();
        assertEquals(List.of(SessionListener.THREAD_END, SessionListener.SHUTDOWN, SessionListener.SHUTDOWN),
                listener.endReasons());
        assertEquals(3, listener.started.size());
        for (Session s : listener.started) {
            assertEquals(1, listener.endCount.get(s.id()).get(), s.id());
        }
        assertEquals(0, e.liveScopes());
        e.close();
        assertEquals(3, listener.ended.size());
        // still counted and enforced after close, without new sessions
        e.charge(acme, 1000, 0, null);
        assertNotNull(e.check(acme));
        onThread("late", () -> e.charge(e.enter(), 1, 1, null));
        assertEquals(3, listener.started.size());
    }

    // ---- bad input

    @Test
    void badConfigurationIsRejectedWithTheValue() {
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> new BudgetEngine(List.of(), clock, mdc, listener));
        assertTrue(empty.getMessage().contains("default"), empty.getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> engine(tokens("default", ScopeSpec.THREAD, 1), tokens("default", ScopeSpec.GLOBAL, 1)));
        assertTrue(twice.getMessage().contains("'default'"), twice.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> engine(tokens("default", ScopeSpec.THREAD, -5)));
        assertTrue(negative.getMessage().contains("-5"), negative.getMessage());
        IllegalArgumentException warn = assertThrows(IllegalArgumentException.class,
                () -> engine(new BudgetSpec("default", ScopeSpec.THREAD, 10L, null, null, null, null,
                        new double[] {0.5, 1.5}, EnforcementMode.ENFORCE)));
        assertTrue(warn.getMessage().contains("1.5") && warn.getMessage().contains("(0, 1]"), warn.getMessage());
        IllegalArgumentException window = assertThrows(IllegalArgumentException.class,
                () -> engine(spec("default", ScopeSpec.THREAD, 10L, null, null, null, Duration.ZERO,
                        EnforcementMode.ENFORCE)));
        assertTrue(window.getMessage().contains("PT0S"), window.getMessage());
        IllegalArgumentException cost = assertThrows(IllegalArgumentException.class,
                () -> engine(spec("default", ScopeSpec.THREAD, null, null, null, Double.NaN, null,
                        EnforcementMode.ENFORCE)));
        assertTrue(cost.getMessage().contains("NaN"), cost.getMessage());
    }

    @Test
    void negativeTokenCountsAreRejected() {
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 100));
        CallScope s = e.enter();
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> e.charge(s, -1, 5, null));
        assertTrue(x.getMessage().contains("-1"), x.getMessage());
        assertEquals(0, e.states(s).get(0).used());
    }

    @Test
    void compareFractionsIsExactForLargeValues() {
        assertEquals(0, Integer.signum(BudgetEngine.compareFractions(1, 3, 2, 6)));
        assertTrue(BudgetEngine.compareFractions(Long.MAX_VALUE - 1, Long.MAX_VALUE, Long.MAX_VALUE - 2,
                Long.MAX_VALUE) > 0);
        assertTrue(BudgetEngine.compareFractions(1, 0, 5, 1) > 0);
    }

    @Test
    void aChargeThatCrossesNoThresholdFillsTheScopesOneResultAgain() {
        BudgetEngine e = engine(tokens("default", ScopeSpec.THREAD, 1_000L));
        CallScope s = e.enter();
        ChargeResult first = e.charge(s, 10, 5, null);
        assertEquals(15, first.used(0));
        ChargeResult second = e.charge(s, 20, 0, null);
        assertSame(first, second, "no threshold crossed: the scope's result is filled again, nothing new is made");
        // by hand: 15 + 20 = 35 of 1,000
        assertEquals(1, second.size());
        assertEquals(35, second.used(0));
        assertEquals(1_000, second.limit(0));
        assertEquals(List.of(new BudgetState("default", s.scopeKey(), 35, 1_000)), second.states());
        assertEquals(List.of(), second.crossings());
        // 35 + 725 = 760 crosses 75 % (750): the same result, now with the crossing
        ChargeResult third = e.charge(s, 725, 0, null);
        assertEquals(1, third.crossings().size());
        assertEquals(0.75, third.crossings().get(0).threshold());
        assertEquals(760, third.states().get(0).used());
    }
}
