package dev.tokenguard.budget;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The budget engine: resolves each call's scope instances, refuses calls whose enforcing budget is
 * exhausted, charges tokens and cost exactly under concurrency, reports threshold crossings, resets
 * windows and runs the sessions of the default budget's scope instances.
 *
 * <p>Usage per call: {@link #enter()} on the calling thread, {@link #check} before the request,
 * {@link #charge} once with the provider's usage afterwards (possibly on another thread). With reservation,
 * {@link #reserve} replaces {@link #check}: it admits the call and holds its expected usage until
 * {@link #charge(CallScope, Reservation, long, long, Double)} replaces it with the real one or
 * {@link #release(Reservation)} gives it back.
 * The charge path takes no lock: each scope instance counts with atomic adds. Threads are never
 * started here; the agent calls {@link #reapEndedThreads()} and {@link #releaseIdle(long)} periodically.
 */
public final class BudgetEngine {
    private static final List<ThresholdCrossing> NO_CROSSINGS = List.of();
    private static final String GLOBAL_KEY = "global";
    private static final String MDC_PREFIX = "mdc:";
    /** Reservations by age, oldest first (a class of its own: no class spun at run time by the first reap). */
    private static final Comparator<Reservation> OLDEST_FIRST = new Comparator<>() {
        @Override
        public int compare(Reservation a, Reservation b) {
            return Long.compare(a.reservedAtMillis, b.reservedAtMillis);
        }
    };

    private final BudgetLimits[] budgets;
    private final Clock clock;
    private final MdcSource mdc;
    private volatile SessionListener listener;
    private volatile boolean closed;

    /**
     * The thread scopes, by thread id: what {@link #enter()} looks the calling thread up in, and what the reaper
     * sweeps. Not a {@link ThreadLocal}: a thread-local would hold an idle thread's entry (and the thread's table of
     * them) in the thread, out of the reaper's reach.
     */
    private final ConcurrentHashMap<Long, ThreadScope> threadScopes = new ConcurrentHashMap<>();
    /**
     * The thread scopes of {@link #threadScopes} again, in a table indexed by the low bits of the thread id: what
     * {@link #enter()} reads first, without making a {@code Long} of the id (a boxed id above 127 is a new object per
     * look-up). A slot holds one thread's scope; a thread whose slot holds another live thread's scope (ids that differ
     * by a multiple of the table's size) looks in the map as before. The reaper empties the slot of each scope it
     * removes, so the table holds no scope the map no longer has.
     */
    private final AtomicReferenceArray<ThreadScope> recentThreadScopes =
            new AtomicReferenceArray<>(RECENT_THREAD_SCOPES);
    private static final int RECENT_THREAD_SCOPES = 256;
    private final AtomicReferenceArray<ScopeInstance> globals;
    private final List<ConcurrentHashMap<String, ScopeInstance>> mdcScopes;
    /**
     * Per {@code mdc:} budget, the usage of MDC values whose instance was released as idle ({@link KeptUsage}), by
     * bounded value. A value is in at most one of {@link #mdcScopes} and this map; both change under the key's bin
     * lock of {@link #mdcScopes}.
     */
    private final List<ConcurrentHashMap<String, long[]>> keptUsage;
    private final AtomicInteger live = new AtomicInteger();
    private final Object reaping = new Object();
    /** Reservations not yet settled or released, for {@link #releaseAbandoned}. */
    private final Set<Reservation> reservations = ConcurrentHashMap.newKeySet();
    private volatile FleetView fleet = FleetView.NONE;
    /** Whether a budget is scoped by thread: every call then resolves its thread's scope. */
    private final boolean byThread;

    /**
     * @param budgets  the budgets, the default one ({@code default}) first: its scope defines sessions
     * @param clock    the time source for windows
     * @param mdc      the MDC for {@code mdc:} scopes ({@link MdcSource#NONE} when there is none)
     * @param listener told when sessions start and end
     * @throws IllegalArgumentException when there is no budget, a name repeats or a limit is unusable
     */
    public BudgetEngine(List<BudgetSpec> budgets, Clock clock, MdcSource mdc, SessionListener listener) {
        Objects.requireNonNull(budgets, "budgets");
        if (budgets.isEmpty()) {
            throw new IllegalArgumentException("no budget given; expected at least the default budget '"
                    + BudgetSpec.DEFAULT_NAME + "'");
        }
        this.clock = Objects.requireNonNull(clock, "clock");
        this.mdc = mdc == null ? MdcSource.NONE : mdc;
        this.listener = listener == null ? SessionListener.NONE : listener;
        this.budgets = new BudgetLimits[budgets.size()];
        this.mdcScopes = new ArrayList<>(budgets.size());
        this.keptUsage = new ArrayList<>(budgets.size());
        Set<String> names = new HashSet<>();
        for (int i = 0; i < budgets.size(); i++) {
            BudgetSpec spec = Objects.requireNonNull(budgets.get(i), "budget " + i);
            if (!names.add(spec.name())) {
                throw new IllegalArgumentException("budget name '" + spec.name()
                        + "' is configured twice; expected each name once");
            }
            this.budgets[i] = new BudgetLimits(spec, i);
            boolean byMdc = spec.scope().kind() == ScopeSpec.Kind.MDC;
            mdcScopes.add(byMdc ? new ConcurrentHashMap<>() : null);
            keptUsage.add(byMdc ? new ConcurrentHashMap<>() : null);
        }
        this.globals = new AtomicReferenceArray<>(budgets.size());
        boolean thread = false;
        for (BudgetLimits b : this.budgets) {
            thread |= b.scopeKind == ScopeSpec.Kind.THREAD;
        }
        this.byThread = thread;
    }

    /** The budgets, in configuration order. */
    public List<BudgetSpec> budgets() {
        List<BudgetSpec> specs = new ArrayList<>(budgets.length);
        for (BudgetLimits b : budgets) {
            specs.add(b.spec);
        }
        return specs;
    }

    /**
     * Resolves the calling thread's scope instance of every budget and the session, creating them
     * (and starting the session) on first use; ends the session and starts the next one when the
     * default budget's window passed a boundary.
     */
    public CallScope enter() {
        long now = clock.millis();
        ThreadScope ts = byThread ? threadScope() : null;
        // the calling thread's previous call's instances: while each is the same, that array is the call's too
        ScopeInstance[] last = ts != null ? ts.lastInstances() : null;
        ScopeInstance[] instances = null;
        boolean keep = ts != null;
        for (int i = 0; i < budgets.length; i++) {
            BudgetLimits b = budgets[i];
            ScopeInstance s;
            switch (b.scopeKind) {
                case GLOBAL -> s = global(b, now);
                case MDC -> {
                    String value = mdc.get(b.mdcKey);
                    if (value == null || value.isEmpty()) {
                        ts = ts != null ? ts : threadScope();
                        s = threadInstance(ts, b, now);
                    } else {
                        s = mdcInstance(b, value, now);
                        keep = false; // a thread scope keeps no MDC value's instance (the idle sweep releases those)
                    }
                }
                default -> {
                    ts = ts != null ? ts : threadScope();
                    s = threadInstance(ts, b, now);
                }
            }
            if (instances == null) {
                if (last != null && last[i] == s) {
                    continue;
                }
                instances = new ScopeInstance[budgets.length];
                if (i > 0) {
                    System.arraycopy(last, 0, instances, 0, i);
                }
            }
            instances[i] = s;
        }
        if (instances == null) {
            instances = last;
        } else if (keep) {
            ts.lastInstances(instances);
        }
        UsageWindow w = instances[0].resolve(budgets[0].windowIndex(now), listener);
        return new CallScope(instances, w.session);
    }

    /**
     * Returns null when the call may proceed; otherwise the first enforcing budget of the call that is
     * exhausted ({@code used >= limit} on any of its limits: total, input, output, cost).
     * Budgets in {@code WARN} mode never refuse.
     */
    public Refusal check(CallScope scope) {
        long now = clock.millis();
        for (ScopeInstance s : scope.instances) {
            BudgetLimits b = s.limits;
            if (!b.enforce) {
                continue;
            }
            UsageWindow w = s.current();
            boolean stale = isStale(s, w, now);
            for (int d = 0; d < BudgetLimits.DIMENSIONS; d++) {
                long limit = b.limits[d];
                if (limit == BudgetLimits.NO_LIMIT) {
                    continue;
                }
                long used = stale ? 0 : w.used(d);
                if (used >= limit) {
                    return new Refusal(b.name, s.key, used, limit, BudgetLimits.kind(d));
                }
            }
        }
        return null;
    }

    /**
     * Charges one call's usage to every budget of the call ({@code total = input + output}).
     *
     * @param costUsd the call's estimated cost, or null when the model is not priced
     * @return each budget's state after the charge and every threshold this charge crossed
     * @throws IllegalArgumentException when a token count is negative
     */
    public ChargeResult charge(CallScope scope, long inputTokens, long outputTokens, Double costUsd) {
        if (inputTokens < 0 || outputTokens < 0) {
            throw new IllegalArgumentException("token counts must be >= 0; got input " + inputTokens
                    + ", output " + outputTokens);
        }
        long total = Math.addExact(inputTokens, outputTokens);
        long cost = BudgetLimits.toNanoUsd(costUsd);
        boolean priced = costUsd != null;
        long now = clock.millis();
        ScopeInstance[] instances = scope.instances; // replaced, not written, when an instance has a successor
        ChargeResult result = scope.charged;
        if (result == null) {
            result = new ChargeResult(scope);
            scope.charged = result;
        }
        result.reset(NO_CROSSINGS);
        List<ThresholdCrossing> crossings = NO_CROSSINGS;
        SessionListener l = listener;
        for (int i = 0; i < instances.length; i++) {
            ScopeInstance s = instances[i];
            BudgetLimits b = s.limits;
            boolean byMdcValue = b.scopeKind == ScopeSpec.Kind.MDC && s.key.startsWith(MDC_PREFIX);
            boolean releasable = byMdcValue || s.thread != null;
            if (releasable && !s.touch(now)) {
                s = successor(b, s, now, scope, i);
            }
            UsageWindow w = s.enter(b.windowIndex(now), l);
            while (w == null && releasable && s.isRetired()) {
                ScopeInstance next = successor(b, s, now, scope, i);
                if (next == s) {
                    break; // its thread has ended: counted below, in no session
                }
                s = next;
                w = s.enter(b.windowIndex(now), l);
            }
            boolean gated = w != null;
            if (!gated) {
                w = s.current(); // released (thread ended, or shutdown): still counted, no session to add to
            }
            long totalBefore;
            long inputBefore;
            long outputBefore;
            long costBefore;
            try {
                totalBefore = w.add(BudgetLimits.TOTAL, total);
                inputBefore = w.add(BudgetLimits.INPUT, inputTokens);
                outputBefore = w.add(BudgetLimits.OUTPUT, outputTokens);
                costBefore = priced ? w.add(BudgetLimits.COST, cost) : 0;
                if (w.session != null) {
                    if (gated) {
                        w.session.add(inputTokens, outputTokens, costUsd);
                    }
                    if (scope.session() != w.session) {
                        scope.session(w.session);
                    }
                }
            } finally {
                if (gated) {
                    w.leave();
                }
            }
            if (b.thresholds.length > 0) {
                crossings = crossings(b, s.key, w, crossings,
                        totalBefore, total, inputBefore, inputTokens, outputBefore, outputTokens,
                        costBefore, priced ? cost : 0);
            }
            setState(result, i, b, totalBefore + total, inputBefore + inputTokens, outputBefore + outputTokens);
        }
        result.crossings(crossings);
        return result;
    }

    /**
     * The instance that follows {@code s}, released as idle while this call was in flight: what {@code s} used went
     * to the kept usage, which its successor starts from, so the call is charged there (in a new session). For a
     * thread's instance whose thread has ended meanwhile there is none: {@code s} itself.
     */
    private ScopeInstance successor(BudgetLimits b, ScopeInstance s, long now, CallScope scope, int i) {
        ScopeInstance next = s.thread != null
                ? claim(s.thread, b, now)
                : instanceOf(b, s.key.substring(MDC_PREFIX.length() + b.mdcKey.length() + 1), now);
        if (next == null) {
            return s;
        }
        // a copy: the array may be shared with the thread's other calls and with the call's reservation
        ScopeInstance[] replaced = scope.instances.clone();
        replaced[i] = next;
        scope.instances = replaced;
        return next;
    }

    /** Longest single wait for a settlement before the numbers are looked at again (a window may have reset). */
    private static final long WAIT_SLICE_NANOS = 100_000_000L;

    /**
     * Decides on a call before its request is sent, and reserves its expected usage in every enforcing budget of the
     * call when it is admitted.
     *
     * <p>A call is refused when an enforcing budget is exhausted on the settled numbers ({@code used >= limit}, as
     * {@link #check}). It is admitted at once while {@code used + reserved by calls in flight < limit} on every
     * limit of every enforcing budget, so a lone caller is admitted whenever {@code used < limit}. Otherwise the
     * reservations in flight already cover what is left: the call waits, at most {@code waitNanos}, for calls in
     * flight to settle, and is decided again on the numbers they leave. When the wait runs out (or is 0, for threads
     * that must not block) it is decided on the settled numbers alone: admitted, since {@code used < limit}, with
     * its reservation added on top ({@link Reservation#forced()}).
     *
     * @param estimate  what the call is expected to use
     * @param waitNanos how long the call may wait for calls in flight to settle; 0 for not at all
     * @return the admission with its reservation (which the caller must settle or release), or the refusal
     */
    public Admission reserve(CallScope scope, Estimate estimate, long waitNanos) {
        Object decided = reserveOrRefuse(scope, estimate, waitNanos);
        return decided instanceof Refusal r ? new Admission(null, r) : new Admission((Reservation) decided, null);
    }

    /**
     * As {@link #reserve}, without an {@link Admission} per call: the {@link Reservation} of an admitted call, or the
     * {@link Refusal} of a refused one.
     */
    public Object reserveOrRefuse(CallScope scope, Estimate estimate, long waitNanos) {
        Objects.requireNonNull(estimate, "estimate");
        long deadline = waitNanos > 0 ? System.nanoTime() + waitNanos : 0;
        ScopeInstance[] enforcing = enforcingInstances(scope);
        for (;;) {
            Refusal refusal = check(scope);
            if (refusal != null) {
                return refusal;
            }
            long now = clock.millis();
            int blocked = tryReserveAll(enforcing, estimate, now, false);
            if (blocked < 0) {
                return register(enforcing, estimate, now, false);
            }
            long left = deadline - System.nanoTime();
            if (waitNanos <= 0 || left <= 0 || Thread.currentThread().isInterrupted()) {
                tryReserveAll(enforcing, estimate, now, true);
                return register(enforcing, estimate, now, true);
            }
            ScopeInstance s = enforcing[blocked];
            try {
                s.inFlight().await(Math.min(left, WAIT_SLICE_NANOS), () -> blockedOn(s, estimate, clock.millis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // decided at once on the next pass
            }
        }
    }

    /**
     * Whether every limit of every enforcing budget of the call has room, after what is used and what the calls in
     * flight reserved, for {@code times} calls of {@code estimate} each. A call whose upper bound fits that many
     * times may reserve the bound instead of an exact count: what it over-reserves can make other calls wait only
     * once that much of the budget is in flight, and a bound is never less than the exact figure, so admission and
     * overshoot are no worse for it.
     */
    public boolean hasRoomFor(CallScope scope, Estimate estimate, int times) {
        long now = clock.millis();
        for (ScopeInstance s : scope.instances) {
            if (!s.limits.enforce) {
                continue;
            }
            InFlight f = s.inFlight();
            UsageWindow w = s.current();
            boolean stale = isStale(s, w, now);
            long[] limits = s.limits.limits;
            for (int d = 0; d < BudgetLimits.DIMENSIONS; d++) {
                if (limits[d] == BudgetLimits.NO_LIMIT) {
                    continue;
                }
                long room = limits[d] - (stale ? 0 : w.used(d)) - f.reserved(d);
                if (room <= 0 || room / times < estimate.amount(d)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Charges one call's usage (as {@link #charge(CallScope, long, long, Double)}) and then gives back what it
     * reserved; the reservation is given back even when the charge fails. A reservation already released (the call
     * was abandoned, then finished after all) is charged all the same and given back no second time.
     */
    public ChargeResult charge(CallScope scope, Reservation reservation, long inputTokens, long outputTokens,
                               Double costUsd) {
        try {
            return charge(scope, inputTokens, outputTokens, costUsd);
        } finally {
            if (reservation != null) {
                release(reservation);
            }
        }
    }

    /**
     * Gives back what a call reserved without charging anything (the call failed before any usage, or was
     * abandoned). Returns false when it was already settled or released.
     */
    public boolean release(Reservation reservation) {
        if (!reservation.close()) {
            return false;
        }
        reservations.remove(reservation);
        Estimate e = reservation.estimate;
        for (ScopeInstance s : reservation.instances) {
            InFlight f = s.inFlight();
            long[] limits = s.limits.limits;
            for (int d = 0; d < BudgetLimits.DIMENSIONS; d++) {
                if (limits[d] != BudgetLimits.NO_LIMIT) {
                    f.unreserve(d, e.amount(d));
                }
            }
            f.settled();
        }
        return true;
    }

    /**
     * Releases the reservations of calls that can no longer end by themselves: those whose owner was collected (a
     * stream dropped without being closed) and those older than {@code maxAgeMillis}, the longest a call may live.
     * Call it periodically from one background thread.
     *
     * @return the reservations released, oldest first
     */
    public List<Reservation> releaseAbandoned(long maxAgeMillis) {
        long now = clock.millis();
        List<Reservation> released = new ArrayList<>();
        for (Reservation r : reservations) {
            if ((r.ownerGone() || now - r.reservedAtMillis > maxAgeMillis) && release(r)) {
                released.add(r);
            }
        }
        released.sort(OLDEST_FIRST);
        return released;
    }

    /** The number of reservations held by calls in flight. */
    public int openReservations() {
        return reservations.size();
    }

    /** Total tokens the calls in flight reserved in the scope instance of {@code scope} of the named budget. */
    public long reservedTokens(CallScope scope, String budgetName) {
        for (ScopeInstance s : scope.instances) {
            if (s.limits.name.equals(budgetName)) {
                return s.inFlight().reserved(BudgetLimits.TOTAL);
            }
        }
        throw new IllegalArgumentException("no budget named '" + budgetName + "'; budgets: " + budgets());
    }

    private Reservation register(ScopeInstance[] enforcing, Estimate estimate, long now, boolean forced) {
        Reservation r = new Reservation(enforcing, estimate, now, forced);
        reservations.add(r);
        return r;
    }

    private static ScopeInstance[] enforcingInstances(CallScope scope) {
        int n = 0;
        for (ScopeInstance s : scope.instances) {
            if (reserves(s.limits)) {
                n++;
            }
        }
        if (n == scope.instances.length) {
            return scope.instances; // never written: a successor replaces the scope's array
        }
        ScopeInstance[] out = new ScopeInstance[n];
        n = 0;
        for (ScopeInstance s : scope.instances) {
            if (reserves(s.limits)) {
                out[n++] = s;
            }
        }
        return out;
    }

    private static boolean reserves(BudgetLimits b) {
        if (!b.enforce) {
            return false;
        }
        for (long limit : b.limits) {
            if (limit != BudgetLimits.NO_LIMIT) {
                return true;
            }
        }
        return false;
    }

    /**
     * Reserves the estimate in every instance, or in none: returns -1 when all are reserved, else the index of the
     * instance whose reservations in flight already cover what is left (what was reserved before it is given back).
     */
    private int tryReserveAll(ScopeInstance[] enforcing, Estimate estimate, long now, boolean force) {
        for (int i = 0; i < enforcing.length; i++) {
            ScopeInstance s = enforcing[i];
            InFlight f = s.inFlight();
            UsageWindow w = s.current();
            boolean stale = isStale(s, w, now);
            long[] limits = s.limits.limits;
            for (int d = 0; d < BudgetLimits.DIMENSIONS; d++) {
                if (limits[d] == BudgetLimits.NO_LIMIT) {
                    continue;
                }
                if (!f.tryReserve(d, estimate.amount(d), stale ? null : w, limits[d], force)) {
                    for (int back = d - 1; back >= 0; back--) {
                        if (limits[back] != BudgetLimits.NO_LIMIT) {
                            f.unreserve(back, estimate.amount(back));
                        }
                    }
                    for (int j = i - 1; j >= 0; j--) {
                        unreserveAll(enforcing[j], estimate);
                    }
                    return i;
                }
            }
        }
        return -1;
    }

    private static void unreserveAll(ScopeInstance s, Estimate estimate) {
        InFlight f = s.inFlight();
        long[] limits = s.limits.limits;
        for (int d = 0; d < BudgetLimits.DIMENSIONS; d++) {
            if (limits[d] != BudgetLimits.NO_LIMIT) {
                f.unreserve(d, estimate.amount(d));
            }
        }
        f.settled();
    }

    /** Whether the reservations in flight of {@code s} still cover what is left on one of its limits. */
    private boolean blockedOn(ScopeInstance s, Estimate estimate, long now) {
        InFlight f = s.inFlight();
        UsageWindow w = s.current();
        boolean stale = isStale(s, w, now);
        long[] limits = s.limits.limits;
        for (int d = 0; d < BudgetLimits.DIMENSIONS; d++) {
            if (limits[d] != BudgetLimits.NO_LIMIT) {
                long used = stale ? 0 : w.used(d);
                if (used < limits[d] && used + f.reserved(d) >= limits[d]) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Adds usage recorded before this process started (read back from the session logs) to one scope instance, so
     * that a restart keeps what was spent in the current window. Only windowed {@code global} and {@code mdc:}
     * budgets take it, and only while the window starting at {@code windowStartMillis} is still the current one.
     * It starts no session and reports no threshold: thresholds it passes count as passed.
     *
     * @param budgetName   the budget's name
     * @param scopeKey     {@code global}, or {@code mdc:<key>=<value>} with the budget's MDC key
     * @param costNanoUsd  the cost of the priced calls, in nano-USD
     * @return whether the usage was added
     */
    public boolean seed(String budgetName, String scopeKey, long windowStartMillis, long inputTokens,
                        long outputTokens, long costNanoUsd) {
        if (inputTokens < 0 || outputTokens < 0 || costNanoUsd < 0) {
            throw new IllegalArgumentException("usage must be >= 0; got input " + inputTokens + ", output "
                    + outputTokens + ", cost " + costNanoUsd);
        }
        long now = clock.millis();
        for (BudgetLimits b : budgets) {
            if (!b.name.equals(budgetName) || b.windowMillis == 0
                    || b.windowIndex(windowStartMillis) != b.windowIndex(now)) {
                continue;
            }
            ScopeInstance s;
            if (b.scopeKind == ScopeSpec.Kind.GLOBAL && scopeKey.equals(GLOBAL_KEY)) {
                s = global(b, now);
            } else if (b.scopeKind == ScopeSpec.Kind.MDC && scopeKey.startsWith("mdc:" + b.mdcKey + "=")
                    && scopeKey.length() > b.mdcKey.length() + 5) {
                s = mdcInstance(b, scopeKey.substring(b.mdcKey.length() + 5), now);
            } else {
                return false;
            }
            UsageWindow w = s.current();
            if (w.index != b.windowIndex(now) || w.isClosed()) {
                return false;
            }
            w.add(BudgetLimits.TOTAL, Math.addExact(inputTokens, outputTokens));
            w.add(BudgetLimits.INPUT, inputTokens);
            w.add(BudgetLimits.OUTPUT, outputTokens);
            w.add(BudgetLimits.COST, costNanoUsd);
            return true;
        }
        return false;
    }

    /** The current state of each budget of the call, in configuration order. */
    public List<BudgetState> states(CallScope scope) {
        long now = clock.millis();
        BudgetState[] states = new BudgetState[scope.instances.length];
        for (int i = 0; i < states.length; i++) {
            ScopeInstance s = scope.instances[i];
            UsageWindow w = s.current();
            if (isStale(s, w, now)) {
                states[i] = state(s.limits, s.key, 0, 0, 0);
            } else {
                states[i] = state(s.limits, s.key, w.used(BudgetLimits.TOTAL), w.used(BudgetLimits.INPUT),
                        w.used(BudgetLimits.OUTPUT));
            }
        }
        return Arrays.asList(states);
    }

    /**
     * Each budget of a call as it stands now, in every unit, in configuration order (what usage listeners are told
     * after the call's charge).
     */
    public List<BudgetView> views(CallScope scope) {
        long now = clock.millis();
        List<BudgetView> views = new ArrayList<>(scope.instances.length);
        for (ScopeInstance s : scope.instances) {
            UsageWindow w = s.current();
            views.add(fleetOr(s.limits, isStale(s, w, now) ? view(s.limits, s.key, null, now)
                    : view(s.limits, s.key, usage(w), now), now));
        }
        return views;
    }

    /** Where views of shared budgets get the fleet's usage from ({@link FleetView#NONE} without a store). */
    public void shareWith(FleetView view) {
        this.fleet = Objects.requireNonNull(view, "view");
    }

    /** The fleet's usage as the store last counted it ({@link FleetView#NONE} without a store). */
    public FleetView fleet() {
        return fleet;
    }

    /** The view with the fleet's usage when the store shares its scope instance and knows it, else the view. */
    private BudgetView fleetOr(BudgetLimits b, BudgetView local, long now) {
        long[] shared = fleet.usage(b.spec, local.scopeKey());
        if (shared == null) {
            return local;
        }
        BudgetView v = view(b, local.scopeKey(), shared, now);
        return new BudgetView(v.name(), v.scopeKey(), v.used(), v.limit(), v.usedNanoUsd(), v.limitNanoUsd(),
                v.windowEndMillis(), true);
    }

    /**
     * This JVM's own usage of one scope instance it holds (or keeps, for an MDC value released as idle) in the current
     * window, per dimension (total, input, output tokens, cost in nano-USD); null when it holds none.
     */
    public long[] usage(String budgetName, String scopeKey) {
        long now = clock.millis();
        for (BudgetLimits b : budgets) {
            if (!b.name.equals(budgetName)) {
                continue;
            }
            ScopeInstance s = held(b, scopeKey);
            if (s == null) {
                long[] kept = keptOf(b, scopeKey, now);
                return kept == null ? null : Arrays.copyOf(kept, BudgetLimits.DIMENSIONS);
            }
            UsageWindow w = s.current();
            return isStale(s, w, now) ? new long[BudgetLimits.DIMENSIONS] : usage(w);
        }
        return null;
    }

    /**
     * A budget as it stands for the calling thread: the scope instance its next call would be charged to (its thread,
     * its MDC value, or global), resolved as {@link #enter()} does but without creating an instance or starting a
     * session. An instance not held yet has used nothing, unless it is an MDC value or thread released as idle,
     * whose kept usage counts.
     *
     * @param budgetName the budget's name, or null for the default budget
     * @return the view, or null when no budget has that name
     */
    public BudgetView view(String budgetName) {
        BudgetLimits b = budgetName == null ? budgets[0] : null;
        for (int i = 0; b == null && i < budgets.length; i++) {
            if (budgets[i].name.equals(budgetName)) {
                b = budgets[i];
            }
        }
        if (b == null) {
            return null;
        }
        long now = clock.millis();
        String value = b.scopeKind == ScopeSpec.Kind.MDC ? mdc.get(b.mdcKey) : null;
        ScopeInstance s;
        String key;
        long[] usage = null;
        if (b.scopeKind == ScopeSpec.Kind.GLOBAL) {
            key = GLOBAL_KEY;
            s = globals.get(b.index);
        } else if (value != null && !value.isEmpty()) {
            String bounded = ScopeKeys.boundedValue(value);
            key = MDC_PREFIX + b.mdcKey + "=" + bounded;
            s = mdcScopes.get(b.index).get(bounded);
            long[] kept = s == null ? keptUsage.get(b.index).get(bounded) : null;
            if (kept != null && KeptUsage.windowIndex(kept) == b.windowIndex(now)) {
                usage = Arrays.copyOf(kept, BudgetLimits.DIMENSIONS);
            }
        } else {
            ThreadScope ts = currentThreadScope();
            String k = ts == null ? null : ts.key();
            key = k != null ? k : ThreadScope.keyOf(Thread.currentThread());
            s = ts == null ? null : ts.get(b.index);
            long[] kept = ts == null ? null : ts.kept(b.index);
            if (kept != null && KeptUsage.windowIndex(kept) == b.windowIndex(now)) {
                usage = Arrays.copyOf(kept, BudgetLimits.DIMENSIONS);
            }
        }
        if (s != null && !s.isReleased()) {
            UsageWindow w = s.current();
            usage = isStale(s, w, now) ? null : usage(w);
        }
        return fleetOr(b, view(b, key, usage, now), now);
    }

    private static long[] usage(UsageWindow w) {
        long[] u = new long[BudgetLimits.DIMENSIONS];
        for (int d = 0; d < u.length; d++) {
            u[d] = w.used(d);
        }
        return u;
    }

    /** The view of one budget's instance with this usage (null: nothing used in the current window). */
    private static BudgetView view(BudgetLimits b, String key, long[] usage, long now) {
        long[] u = usage == null ? new long[BudgetLimits.DIMENSIONS] : usage;
        BudgetState tokens = state(b, key, u[BudgetLimits.TOTAL], u[BudgetLimits.INPUT], u[BudgetLimits.OUTPUT]);
        long windowEnd = b.windowMillis == 0 ? 0 : (b.windowIndex(now) + 1) * b.windowMillis;
        return new BudgetView(b.name, key, tokens.used(), tokens.limit(), u[BudgetLimits.COST],
                b.limits[BudgetLimits.COST], windowEnd);
    }

    /**
     * Per budget and per kind of scope instance (thread, MDC value, global), the {@code n} instances the engine
     * holds that are closest to exhaustion, highest utilization first (ties by key). An MDC value or thread released
     * as idle counts with the usage kept of its current window ({@link KeptUsage}): a heavy spender that went quiet
     * still shows. Reads the counters without locking; its cost grows with the number of instances held, so it suits a
     * periodic metric collection, not the call path.
     */
    public List<ScopeUtilization> mostUtilized(int n) {
        if (n <= 0) {
            return List.of();
        }
        long now = clock.millis();
        List<ScopeUtilization> out = new ArrayList<>();
        java.util.Comparator<ScopeUtilization> order = java.util.Comparator
                .comparingDouble(ScopeUtilization::utilization).thenComparing(ScopeUtilization::scopeKey,
                        java.util.Comparator.reverseOrder());
        for (BudgetLimits b : budgets) {
            if (!b.hasTokenLimit() && b.limits[BudgetLimits.COST] == BudgetLimits.NO_LIMIT) {
                continue;
            }
            java.util.PriorityQueue<ScopeUtilization> threads = new java.util.PriorityQueue<>(order);
            long window = b.windowIndex(now);
            for (ThreadScope ts : threadScopes.values()) {
                Object slot = ts.slot(b.index);
                if (slot instanceof ScopeInstance s) {
                    keep(threads, utilization(s, now), n, order);
                } else if (slot instanceof long[] kept) {
                    String key = ts.key();
                    if (key != null) {
                        keep(threads, keptUtilization(b, key, kept, window), n, order);
                    }
                }
            }
            java.util.PriorityQueue<ScopeUtilization> others = new java.util.PriorityQueue<>(order);
            ConcurrentHashMap<String, ScopeInstance> byValue = mdcScopes.get(b.index);
            if (byValue != null) {
                for (ScopeInstance s : byValue.values()) {
                    keep(others, utilization(s, now), n, order);
                }
                for (java.util.Map.Entry<String, long[]> e : keptUsage.get(b.index).entrySet()) {
                    if (!byValue.containsKey(e.getKey())) { // not back in use since (then counted above)
                        keep(others, keptUtilization(b, MDC_PREFIX + b.mdcKey + "=" + e.getKey(), e.getValue(),
                                window), n, order);
                    }
                }
            }
            keep(others, utilization(globals.get(b.index), now), n, order);
            for (java.util.PriorityQueue<ScopeUtilization> top : List.of(others, threads)) {
                List<ScopeUtilization> sorted = new ArrayList<>(top);
                sorted.sort(order.reversed());
                out.addAll(sorted);
            }
        }
        return out;
    }

    private static void keep(java.util.PriorityQueue<ScopeUtilization> top, ScopeUtilization u, int n,
                             java.util.Comparator<ScopeUtilization> order) {
        if (u == null) {
            return;
        }
        if (top.size() < n) {
            top.add(u);
        } else if (order.compare(u, top.peek()) > 0) {
            top.poll();
            top.add(u);
        }
    }

    private ScopeUtilization utilization(ScopeInstance s, long now) {
        if (s == null) {
            return null;
        }
        BudgetLimits b = s.limits;
        UsageWindow w = s.current();
        boolean stale = isStale(s, w, now);
        double highest = 0;
        for (int d = 0; d < BudgetLimits.DIMENSIONS; d++) {
            long limit = b.limits[d];
            if (limit != BudgetLimits.NO_LIMIT && !stale) {
                highest = Math.max(highest, limit == 0 ? Double.POSITIVE_INFINITY : (double) w.used(d) / limit);
            }
        }
        return new ScopeUtilization(b.name, s.key, highest);
    }

    /** The utilization of a released instance's kept usage, or null when it is of a window that has passed. */
    private static ScopeUtilization keptUtilization(BudgetLimits b, String key, long[] kept, long window) {
        if (KeptUsage.windowIndex(kept) != window) {
            return null;
        }
        double highest = 0;
        for (int d = 0; d < BudgetLimits.DIMENSIONS; d++) {
            long limit = b.limits[d];
            if (limit != BudgetLimits.NO_LIMIT) {
                highest = Math.max(highest, limit == 0 ? Double.POSITIVE_INFINITY : (double) kept[d] / limit);
            }
        }
        return new ScopeUtilization(b.name, key, highest);
    }

    /** The usage kept of an idle-released scope key (MDC value or thread) in the current window, or null. */
    private long[] keptOf(BudgetLimits b, String scopeKey, long now) {
        long[] usage = null;
        ConcurrentHashMap<String, long[]> kept = keptUsage.get(b.index);
        String prefix = MDC_PREFIX + b.mdcKey + "=";
        if (kept != null && scopeKey.startsWith(prefix)) {
            usage = kept.get(scopeKey.substring(prefix.length()));
        } else if (scopeKey.startsWith("thread:")) {
            ThreadScope ts = threadScopeOf(scopeKey);
            usage = ts == null ? null : ts.kept(b.index);
        }
        return usage != null && KeptUsage.windowIndex(usage) == b.windowIndex(now) ? usage : null;
    }

    /** The thread scope with this key, or null. */
    private ThreadScope threadScopeOf(String scopeKey) {
        for (ThreadScope ts : threadScopes.values()) {
            if (scopeKey.equals(ts.key())) {
                return ts;
            }
        }
        return null;
    }

    /**
     * Whether the engine holds a scope instance with this key (of any budget), live or as the usage kept of an MDC
     * value or thread released as idle: what {@link #resetScope} would reset.
     */
    public boolean holdsScope(String scopeKey) {
        long now = clock.millis();
        for (BudgetLimits b : budgets) {
            if (held(b, scopeKey) != null || keptOf(b, scopeKey, now) != null) {
                return true;
            }
        }
        return false;
    }

    /**
     * Takes the limits and mode of {@code changed} for the budget of the same name, from the next call on (a live
     * change from the command line or JMX).
     *
     * @return the budget as it was before
     * @throws IllegalArgumentException when no budget has that name, a limit is unusable, or the change touches what
     *                                  cannot change while the budget runs (scope, window, warn-at)
     */
    public BudgetSpec change(BudgetSpec changed) {
        return change(changed, true);
    }

    /**
     * Checks {@code changed} as {@link #change(BudgetSpec)} would, changing nothing: so that several changes can be
     * checked before any is made.
     *
     * @throws IllegalArgumentException as {@link #change(BudgetSpec)}
     */
    public void checkChange(BudgetSpec changed) {
        change(changed, false);
    }

    private BudgetSpec change(BudgetSpec changed, boolean apply) {
        for (BudgetLimits b : budgets) {
            if (b.name.equals(changed.name())) {
                BudgetSpec before = b.spec;
                if (apply) {
                    b.update(changed);
                } else {
                    b.checkUpdate(changed);
                }
                return before;
            }
        }
        throw new IllegalArgumentException("no budget named '" + changed.name() + "'; the budgets are "
                + budgets().stream().map(BudgetSpec::name).toList());
    }

    /**
     * Sets the current window's usage of every scope instance with this key (of any budget) back to 0 and forgets
     * its reported thresholds; the session goes on. The usage kept of an MDC value or thread released as idle is
     * dropped.
     *
     * @param scopeKey e.g. {@code thread:worker-3#41}, {@code global}, {@code mdc:tenant=acme}
     * @return the number of scope instances reset, 0 when the engine holds none with that key
     */
    public int resetScope(String scopeKey) {
        int reset = 0;
        for (BudgetLimits b : budgets) {
            ScopeInstance s = held(b, scopeKey);
            if (s != null) {
                s.current().reset();
                reset++;
            } else if (dropKept(b, scopeKey)) {
                reset++;
            }
        }
        return reset;
    }

    /**
     * Drops the usage kept of an idle MDC value, under its key's lock like every move between the two maps, or of an
     * idle thread, under its scope's lock.
     */
    private boolean dropKept(BudgetLimits b, String scopeKey) {
        if (scopeKey.startsWith("thread:")) {
            ThreadScope ts = threadScopeOf(scopeKey);
            if (ts == null) {
                return false;
            }
            synchronized (ts) {
                if (ts.kept(b.index) == null) {
                    return false;
                }
                ts.set(b.index, null);
                return true;
            }
        }
        ConcurrentHashMap<String, ScopeInstance> byValue = mdcScopes.get(b.index);
        String prefix = MDC_PREFIX + b.mdcKey + "=";
        if (byValue == null || !scopeKey.startsWith(prefix)) {
            return false;
        }
        ConcurrentHashMap<String, long[]> kept = keptUsage.get(b.index);
        boolean[] dropped = new boolean[1];
        byValue.compute(scopeKey.substring(prefix.length()), (v, cur) -> {
            if (cur == null) {
                dropped[0] = kept.remove(v) != null;
            }
            return cur;
        });
        return dropped[0];
    }

    /**
     * The state of one scope instance the engine holds (as {@link #states} gives it for a call), or null when it
     * holds none with that budget and key. An MDC value or thread released as idle has the state of its kept usage.
     */
    public BudgetState state(String budgetName, String scopeKey) {
        long now = clock.millis();
        for (BudgetLimits b : budgets) {
            if (!b.name.equals(budgetName)) {
                continue;
            }
            ScopeInstance s = held(b, scopeKey);
            if (s == null) {
                long[] kept = keptOf(b, scopeKey, now);
                return kept == null ? null : state(b, scopeKey, kept[BudgetLimits.TOTAL], kept[BudgetLimits.INPUT],
                        kept[BudgetLimits.OUTPUT]);
            }
            UsageWindow w = s.current();
            return isStale(s, w, now) ? state(b, s.key, 0, 0, 0)
                    : state(b, s.key, w.used(BudgetLimits.TOTAL), w.used(BudgetLimits.INPUT),
                    w.used(BudgetLimits.OUTPUT));
        }
        return null;
    }

    /** The live scope instance of a budget with this key, or null. */
    private ScopeInstance held(BudgetLimits b, String scopeKey) {
        ScopeInstance s = null;
        ScopeInstance g = globals.get(b.index);
        if (g != null && g.key.equals(scopeKey)) {
            s = g;
        }
        ConcurrentHashMap<String, ScopeInstance> byValue = mdcScopes.get(b.index);
        String prefix = "mdc:" + b.mdcKey + "=";
        if (s == null && byValue != null && scopeKey.startsWith(prefix)) {
            s = byValue.get(scopeKey.substring(prefix.length()));
        }
        if (s == null && scopeKey.startsWith("thread:")) {
            ThreadScope ts = threadScopeOf(scopeKey);
            s = ts == null ? null : ts.get(b.index);
        }
        return s == null || s.isReleased() ? null : s;
    }

    /**
     * The total (input + output) tokens used in the current window over every scope instance the engine holds of
     * one budget, the usage kept of idle MDC values and threads included; -1 when no budget has that name. Reads
     * without locking, like {@link #mostUtilized}.
     */
    public long totalUsed(String budgetName) {
        long now = clock.millis();
        for (BudgetLimits b : budgets) {
            if (!b.name.equals(budgetName)) {
                continue;
            }
            long sum = usedNow(globals.get(b.index), now);
            ConcurrentHashMap<String, ScopeInstance> byValue = mdcScopes.get(b.index);
            if (byValue != null) {
                for (ScopeInstance s : byValue.values()) {
                    sum += usedNow(s, now);
                }
                long window = b.windowIndex(now);
                for (java.util.Map.Entry<String, long[]> e : keptUsage.get(b.index).entrySet()) {
                    long[] kept = e.getValue();
                    if (KeptUsage.windowIndex(kept) == window && !byValue.containsKey(e.getKey())) {
                        sum += kept[BudgetLimits.TOTAL];
                    }
                }
            }
            long window = b.windowIndex(now);
            for (ThreadScope ts : threadScopes.values()) {
                Object slot = ts.slot(b.index);
                if (slot instanceof ScopeInstance s) {
                    sum += usedNow(s, now);
                } else if (slot instanceof long[] kept && KeptUsage.windowIndex(kept) == window) {
                    sum += kept[BudgetLimits.TOTAL];
                }
            }
            return sum;
        }
        return -1;
    }

    private long usedNow(ScopeInstance s, long now) {
        if (s == null || s.isReleased()) {
            return 0;
        }
        UsageWindow w = s.current();
        return isStale(s, w, now) ? 0 : w.used(BudgetLimits.TOTAL);
    }

    /** The number of scope instances currently held, over all budgets. */
    public int liveScopes() {
        return live.get();
    }

    /**
     * Releases the scope instances of threads that have ended and ends their sessions with reason
     * {@code thread_end}. Call it periodically from one background thread.
     *
     * @return the number of scope instances released
     */
    public int reapEndedThreads() {
        synchronized (reaping) {
            int released = 0;
            for (java.util.Map.Entry<Long, ThreadScope> e : threadScopes.entrySet()) {
                ThreadScope ts = e.getValue();
                if (ts.isEnded()) {
                    threadScopes.remove(e.getKey(), ts);
                    forgetRecent(e.getKey(), ts);
                    released += releaseAll(ts, SessionListener.THREAD_END, listener);
                    ts.clear();
                }
            }
            return released;
        }
    }

    /**
     * Ends every live session with reason {@code shutdown} and releases every scope instance. Calls
     * after this are still counted and checked, but start and end no session.
     */
    public void close() {
        synchronized (reaping) {
            if (closed) {
                return;
            }
            closed = true;
            SessionListener l = listener;
            listener = SessionListener.NONE;
            for (ThreadScope ts : threadScopes.values()) {
                releaseAll(ts, SessionListener.SHUTDOWN, l); // kept in the map: the thread's next call still counts
            }
            for (int i = 0; i < budgets.length; i++) {
                ScopeInstance g = globals.get(i);
                if (g != null && g.release(SessionListener.SHUTDOWN, l)) {
                    live.decrementAndGet();
                }
                ConcurrentHashMap<String, ScopeInstance> byValue = mdcScopes.get(i);
                if (byValue != null) {
                    for (ScopeInstance s : byValue.values()) {
                        if (s.release(SessionListener.SHUTDOWN, l)) {
                            live.decrementAndGet();
                        }
                    }
                }
            }
        }
    }

    /** Releases a thread's live instances, under its scope's lock: no call brings one back in between. */
    private int releaseAll(ThreadScope ts, String reason, SessionListener l) {
        int released = 0;
        synchronized (ts) {
            for (int i = 0; i < ts.size(); i++) {
                ScopeInstance s = ts.get(i);
                if (s != null && s.release(reason, l)) {
                    live.decrementAndGet();
                    released++;
                }
            }
        }
        return released;
    }

    private boolean isStale(ScopeInstance s, UsageWindow w, long now) {
        return !s.isReleased() && w.index < s.limits.windowIndex(now);
    }

    /** The calling thread's scope, or null when it has none yet. */
    private ThreadScope currentThreadScope() {
        Thread t = Thread.currentThread();
        long id = t.getId();
        ThreadScope ts = recentThreadScopes.getAcquire(recentSlot(id));
        if (ts != null && ts.get() == t) {
            return ts;
        }
        ts = threadScopes.get(id);
        if (ts != null && ts.get() == t) {
            remember(id, ts);
            return ts;
        }
        return null;
    }

    private ThreadScope threadScope() {
        ThreadScope ts = currentThreadScope();
        if (ts != null) {
            return ts;
        }
        Thread t = Thread.currentThread();
        long id = t.getId();
        ThreadScope mine = new ThreadScope(t, budgets.length);
        ThreadScope before = threadScopes.put(id, mine);
        if (before != null) {
            // an ended thread whose id came round again before the reaper saw it: end it as the reaper would
            forgetRecent(id, before);
            releaseAll(before, SessionListener.THREAD_END, listener);
        }
        remember(id, mine);
        return mine;
    }

    private static int recentSlot(long threadId) {
        return (int) threadId & (RECENT_THREAD_SCOPES - 1);
    }

    /**
     * Puts a scope of the map in its thread's slot, unless the slot holds another live thread's scope (the first
     * keeps it: two threads do not take it from each other at every call), and unless the reaper took the scope out
     * of the map meanwhile (then the slot is emptied again: a scope the map no longer has must not stay reachable
     * from the table).
     */
    private void remember(long id, ThreadScope ts) {
        int slot = recentSlot(id);
        ThreadScope current = recentThreadScopes.getAcquire(slot);
        if (current != null && current != ts && !current.isEnded()) {
            return;
        }
        recentThreadScopes.setRelease(slot, ts);
        if (threadScopes.get(id) != ts) {
            recentThreadScopes.compareAndSet(slot, ts, null);
        }
    }

    /** Empties the slot of a scope removed from the map, if it still holds it. */
    private void forgetRecent(long id, ThreadScope ts) {
        recentThreadScopes.compareAndSet(recentSlot(id), ts, null);
    }

    /** The live instance of a thread's budget, marked as called at {@code now}. */
    private ScopeInstance threadInstance(ThreadScope ts, BudgetLimits b, long now) {
        ScopeInstance s = ts.get(b.index);
        if (s != null && s.touch(now)) {
            return s;
        }
        return claim(ts, b, now);
    }

    /**
     * The live instance of a thread's budget, marked as called at {@code now}: created on first use, or again after
     * the idle sweep released it, then starting from the usage kept of its current window (in a new session). Null
     * when the thread has ended (a call it started, finishing on another thread): nothing is brought back for it.
     */
    private ScopeInstance claim(ThreadScope ts, BudgetLimits b, long now) {
        synchronized (ts) {
            ScopeInstance s = ts.get(b.index);
            if (s != null && s.touch(now)) {
                return s; // brought back by another call meanwhile
            }
            // no instance: none yet, or the idle sweep replaced it by its kept usage (under this lock, so a retired
            // instance is never seen here)
            Thread t = ts.get();
            if (t == null || t != Thread.currentThread() && !t.isAlive()) {
                return null;
            }
            String key = ts.key();
            long index = b.windowIndex(now);
            ScopeInstance created = new ScopeInstance(key != null ? key : ThreadScope.keyOf(t), b, index, ts);
            long[] kept = ts.kept(b.index);
            if (kept != null && KeptUsage.windowIndex(kept) == index) {
                created.restore(kept);
            }
            created.touch(now);
            ts.set(b.index, created);
            live.incrementAndGet();
            return created;
        }
    }

    private ScopeInstance global(BudgetLimits b, long now) {
        ScopeInstance s = globals.get(b.index);
        if (s == null) {
            ScopeInstance created = new ScopeInstance(GLOBAL_KEY, b, b.windowIndex(now));
            if (globals.compareAndSet(b.index, null, created)) {
                live.incrementAndGet();
                return created;
            }
            s = globals.get(b.index);
        }
        return s;
    }

    private ScopeInstance mdcInstance(BudgetLimits b, String mdcValue, long now) {
        // a long value is held and shown only bounded (ScopeKeys): the map never keeps the app's long string
        return instanceOf(b, ScopeKeys.boundedValue(mdcValue), now);
    }

    /**
     * The live instance of an MDC value (already bounded), marked as called at {@code now}: created on first use, or
     * again after the idle sweep released it, then starting from the usage kept of its current window.
     */
    private ScopeInstance instanceOf(BudgetLimits b, String value, long now) {
        ConcurrentHashMap<String, ScopeInstance> byValue = mdcScopes.get(b.index);
        for (;;) {
            ScopeInstance s = byValue.get(value);
            if (s == null) {
                s = byValue.computeIfAbsent(value, v -> {
                    live.incrementAndGet();
                    long index = b.windowIndex(now);
                    ScopeInstance created = new ScopeInstance(MDC_PREFIX + b.mdcKey + "=" + v, b, index);
                    long[] kept = keptUsage.get(b.index).remove(v);
                    if (kept != null && KeptUsage.windowIndex(kept) == index) {
                        created.restore(kept);
                    }
                    return created;
                });
            }
            if (s.touch(now)) {
                return s;
            }
            // the idle sweep claimed it between the look-up and the mark: it is about to leave the map
            Thread.yield();
        }
    }

    /**
     * Releases the scope instances of MDC values and of threads that had no call for {@code idleMillis}: each one's
     * session ends with reason {@code idle} and only what it used in the current window is kept ({@link KeptUsage}),
     * to be restored when its MDC value or thread calls again (in a new session). Instances with a reservation open
     * are in flight, not idle. Kept usage of windows that have passed is dropped; without a window it is kept while
     * the process runs (for a thread, until it ends). Call it periodically from one background thread.
     *
     * @param idleMillis how long without a call makes an instance idle; 0 or less releases nothing
     * @return the number of scope instances released
     */
    public int releaseIdle(long idleMillis) {
        if (idleMillis <= 0) {
            return 0;
        }
        synchronized (reaping) {
            if (closed) {
                return 0;
            }
            long now = clock.millis();
            long cutoff = now - idleMillis;
            Set<ScopeInstance> reserved = null;
            int released = 0;
            for (int i = 0; i < budgets.length; i++) {
                ConcurrentHashMap<String, ScopeInstance> byValue = mdcScopes.get(i);
                if (byValue == null) {
                    continue;
                }
                BudgetLimits b = budgets[i];
                long window = b.windowIndex(now);
                ConcurrentHashMap<String, long[]> kept = keptUsage.get(i);
                if (b.windowMillis != 0) {
                    kept.values().removeIf(k -> KeptUsage.windowIndex(k) < window);
                }
                for (java.util.Map.Entry<String, ScopeInstance> e : byValue.entrySet()) {
                    ScopeInstance s = e.getValue();
                    if (s.lastCall() > cutoff) {
                        continue;
                    }
                    if (reserved == null) {
                        reserved = reservedInstances();
                    }
                    if (reserved.contains(s) || !s.retireIfIdleSince(cutoff)) {
                        continue;
                    }
                    long[] usage = s.releaseIdle();
                    long[] keep = usage != null && KeptUsage.windowIndex(usage) == window ? usage : null;
                    byValue.compute(e.getKey(), (v, cur) -> {
                        if (cur != s) {
                            return cur;
                        }
                        if (keep != null) {
                            kept.put(v, keep);
                        }
                        return null;
                    });
                    live.decrementAndGet();
                    s.endIdleSession(listener);
                    released++;
                }
            }
            return released + releaseIdleThreads(now, cutoff, reserved);
        }
    }

    /**
     * The thread part of {@link #releaseIdle}: a live thread's instance without a call since {@code cutoff} is retired
     * and replaced by its kept usage in one step under the thread scope's lock, so a call of the thread either marked
     * it first (and it stays) or finds the kept usage and brings it back ({@link #claim}). An ended thread is left to
     * {@link #reapEndedThreads()} (reason {@code thread_end}).
     */
    private int releaseIdleThreads(long now, long cutoff, Set<ScopeInstance> reservedSoFar) {
        Set<ScopeInstance> reserved = reservedSoFar;
        int released = 0;
        for (ThreadScope ts : threadScopes.values()) {
            if (ts.isEnded()) {
                continue;
            }
            for (int i = 0; i < ts.size(); i++) {
                Object slot = ts.slot(i);
                BudgetLimits b = budgets[i];
                long window = b.windowIndex(now);
                if (slot instanceof long[] kept) {
                    if (KeptUsage.windowIndex(kept) < window) {
                        synchronized (ts) {
                            if (ts.slot(i) == kept) {
                                ts.set(i, null);
                            }
                        }
                    }
                    continue;
                }
                if (!(slot instanceof ScopeInstance s) || s.lastCall() > cutoff || s.isReleased()) {
                    continue;
                }
                if (reserved == null) {
                    reserved = reservedInstances();
                }
                if (reserved.contains(s)) {
                    continue;
                }
                synchronized (ts) {
                    if (ts.slot(i) != s || !s.retireIfIdleSince(cutoff)) {
                        continue;
                    }
                    long[] usage = s.releaseIdle();
                    ts.set(i, usage != null && KeptUsage.windowIndex(usage) == window ? usage : null);
                    live.decrementAndGet();
                }
                s.endIdleSession(listener);
                released++;
            }
        }
        return released;
    }

    /**
     * The number of scope instances (MDC values, and threads' instances) whose usage is kept after they were released
     * as idle.
     */
    public int keptScopes() {
        int n = 0;
        for (ConcurrentHashMap<String, long[]> kept : keptUsage) {
            if (kept != null) {
                n += kept.size();
            }
        }
        for (ThreadScope ts : threadScopes.values()) {
            for (int i = 0; i < ts.size(); i++) {
                if (ts.kept(i) != null) {
                    n++;
                }
            }
        }
        return n;
    }

    private Set<ScopeInstance> reservedInstances() {
        Set<ScopeInstance> out = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Reservation r : reservations) {
            if (r.isOpen()) {
                out.addAll(Arrays.asList(r.instances));
            }
        }
        return out;
    }

    private static List<ThresholdCrossing> crossings(BudgetLimits b, String key, UsageWindow w,
                                                     List<ThresholdCrossing> found,
                                                     long totalBefore, long total, long inputBefore, long input,
                                                     long outputBefore, long output, long costBefore, long cost) {
        List<ThresholdCrossing> out = found;
        for (int t = 0; t < b.thresholds.length; t++) {
            long[] points = b.points[t];
            int crossed = -1;
            long used = 0;
            if (crosses(points[BudgetLimits.TOTAL], totalBefore, total)) {
                crossed = BudgetLimits.TOTAL;
                used = totalBefore + total;
            } else if (crosses(points[BudgetLimits.INPUT], inputBefore, input)) {
                crossed = BudgetLimits.INPUT;
                used = inputBefore + input;
            } else if (crosses(points[BudgetLimits.OUTPUT], outputBefore, output)) {
                crossed = BudgetLimits.OUTPUT;
                used = outputBefore + output;
            } else if (crosses(points[BudgetLimits.COST], costBefore, cost)) {
                crossed = BudgetLimits.COST;
                used = costBefore + cost;
            }
            if (crossed >= 0 && w.markReported(t)) {
                if (out == NO_CROSSINGS) {
                    out = new ArrayList<>(4);
                }
                out.add(new ThresholdCrossing(b.name, key, b.thresholds[t], used, b.limits[crossed],
                        BudgetLimits.kind(crossed)));
            }
        }
        return out;
    }

    /** True when {@code before < point <= before + amount}; a point of -1 (no limit) is never crossed. */
    private static boolean crosses(long point, long before, long amount) {
        return point >= 0 && before < point && point - before <= amount;
    }

    /** {@link #state} into {@code result}'s slot {@code i}, without making a {@link BudgetState}. */
    private static void setState(ChargeResult result, int i, BudgetLimits b, long total, long input, long output) {
        long[] limits = b.limits;
        if (limits[BudgetLimits.TOTAL] != BudgetLimits.NO_LIMIT) {
            result.set(i, total, limits[BudgetLimits.TOTAL]);
            return;
        }
        BudgetState s = state(b, "", total, input, output); // input or output limits only: the rare case
        result.set(i, s.used(), s.limit());
    }

    static BudgetState state(BudgetLimits b, String key, long total, long input, long output) {
        long[] limits = b.limits;
        if (limits[BudgetLimits.TOTAL] != BudgetLimits.NO_LIMIT) {
            return new BudgetState(b.name, key, total, limits[BudgetLimits.TOTAL]);
        }
        long li = limits[BudgetLimits.INPUT];
        long lo = limits[BudgetLimits.OUTPUT];
        if (li != BudgetLimits.NO_LIMIT && lo != BudgetLimits.NO_LIMIT) {
            return compareFractions(input, li, output, lo) >= 0
                    ? new BudgetState(b.name, key, input, li)
                    : new BudgetState(b.name, key, output, lo);
        }
        if (li != BudgetLimits.NO_LIMIT) {
            return new BudgetState(b.name, key, input, li);
        }
        if (lo != BudgetLimits.NO_LIMIT) {
            return new BudgetState(b.name, key, output, lo);
        }
        return new BudgetState(b.name, key, total, BudgetLimits.NO_LIMIT);
    }

    /** Compares a/b with c/d exactly (all >= 0; a zero denominator makes a fraction infinite). */
    static int compareFractions(long a, long b, long c, long d) {
        if (b == 0 || d == 0) {
            return Boolean.compare(b == 0 && a > 0, d == 0 && c > 0);
        }
        long hi1 = Math.multiplyHigh(a, d);
        long hi2 = Math.multiplyHigh(c, b);
        if (hi1 != hi2) {
            return Long.compare(hi1, hi2);
        }
        return Long.compareUnsigned(a * d, c * b);
    }
}
