package dev.tokenguard.budget.store;

import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.BudgetState;
import dev.tokenguard.budget.CallScope;
import dev.tokenguard.budget.ChargeResult;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.Estimate;
import dev.tokenguard.budget.FleetView;
import dev.tokenguard.budget.LimitKind;
import dev.tokenguard.budget.Refusal;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.ThresholdCrossing;
import dev.tokenguard.config.StoreAddress;
import dev.tokenguard.config.StoreFailureMode;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The {@code global} and {@code mdc:} budgets of this JVM as one budget with every other JVM of the namespace, through
 * a {@link BudgetStore}. The engine keeps counting each JVM's own share (sessions, local figures); this class adds
 * the fleet's decision before a call and the fleet's figures and warnings after it. {@code thread} budgets (and an
 * {@code mdc:} budget's calls without an MDC value) never reach the store.
 *
 * <p>Before a call: the store admits it while {@code used + reserved by calls in flight (fleet-wide) < limit}, and
 * reserves its estimate; when calls in flight elsewhere hold what is left, the call polls the store until they
 * settle (bounded by {@code reserve-wait}) and is then admitted or refused on the settled numbers, as in one JVM.
 * After it: one atomic script adds its usage, gives the reservation back and names the thresholds this charge was
 * the first in the fleet to cross: only this JVM warns of them.
 *
 * <p>When the store cannot be reached (or answers later than the timeout): with {@code on-failure=local} the JVM
 * prints one line and keeps counting on its own, from the fleet's usage it last saw plus what it spent since; what it
 * spends is kept and added to the store by a background thread as soon as the store answers again (nothing is
 * lost), and the thresholds that addition crosses are reported with this JVM's next call. With {@code refuse} the
 * calls of shared budgets are refused while the store is away; what was spent by calls already admitted is still
 * added later.
 */
public final class SharedBudgets implements AutoCloseable, FleetView {
    private static final long PROBE_INTERVAL_MILLIS = 250;
    /** A read of the fleet's usage older than this asks for a fresh one (answered in the background). */
    private static final long REFRESH_AFTER_MILLIS = 1000;
    /** How long a scope instance read once keeps being refreshed. */
    private static final long REFRESH_INTEREST_MILLIS = 10_000;
    private static final long POLL_MIN_NANOS = 1_000_000L;
    private static final long POLL_MAX_NANOS = 20_000_000L;
    private static final String ID = Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);

    private final BudgetStore store;
    private final String description;
    private final String namespace;
    private final StoreFailureMode onFailure;
    private final long reservationLifetimeMillis;
    private final Clock clock;
    private final Consumer<String> warn;
    private final AtomicLong sequence = new AtomicLong();
    private final Map<BudgetSpec, Compiled> compiled = new ConcurrentHashMap<>();

    private volatile boolean reachable = true;
    private final AtomicBoolean outageReported = new AtomicBoolean();
    /** Per store key: the fleet's usage last seen, and what this JVM spent that the store has not counted yet. */
    private final Map<String, Counts> counts = new ConcurrentHashMap<>();
    /** Reservations to give back once the store answers again. */
    private final ConcurrentLinkedQueue<Ticket> unreleased = new ConcurrentLinkedQueue<>();
    /** Warnings found while adding the spend of an outage, reported with this JVM's next call. */
    private final ConcurrentLinkedQueue<ThresholdCrossing> lateCrossings = new ConcurrentLinkedQueue<>();
    /** A read of the fleet's usage found it older than {@link #REFRESH_AFTER_MILLIS}: the prober reads it anew. */
    private final AtomicBoolean refreshWanted = new AtomicBoolean();
    private final Thread prober;
    private volatile boolean closed;

    /** A budget compiled for the store: its limits in the engine's four dimensions and its threshold points. */
    private record Compiled(BudgetSpec spec, long[] limits, long[][] points, long windowMillis, boolean enforce) {
    }

    /** What this JVM knows of one store key. */
    private static final class Counts {
        final Entry entry;
        final String budget;
        final String scopeKey;
        final AtomicLongArray lastSeen = new AtomicLongArray(BudgetStore.DIMENSIONS);
        final AtomicLongArray unsynced = new AtomicLongArray(BudgetStore.DIMENSIONS);
        /** When the store last told this JVM the usage (epoch ms), 0 for never. */
        volatile long seenAt;
        /** When the fleet's usage was last read through {@link FleetView} (epoch ms), 0 for never. */
        volatile long readAt;

        Counts(Entry entry, String budget, String scopeKey) {
            this.entry = entry;
            this.budget = budget;
            this.scopeKey = scopeKey;
        }

        long used(int d) {
            return lastSeen.get(d) + unsynced.get(d);
        }

        /**
         * The store's usage as one of its answers gave it. Usage in a window only grows, so the highest figure seen
         * is the newest: an answer that arrives late (a settlement overtaken by another thread's refusal) never
         * lowers it.
         */
        void seen(long[] used, long now) {
            for (int d = 0; d < used.length; d++) {
                lastSeen.accumulateAndGet(d, used[d], Math::max);
            }
            seenAt = now;
        }
    }

    private record Entry(BudgetStore.Entry store, Compiled budget, String scopeKey) {
    }

    /** One call's standing with the store; {@link #refusal()} is set when the call must not be made. */
    public static final class Ticket {
        private final List<Entry> reserved;
        private final String member;
        private final Refusal refusal;
        private final boolean storeDown;
        private final AtomicBoolean open = new AtomicBoolean(true);

        private Ticket(List<Entry> reserved, String member, Refusal refusal, boolean storeDown) {
            this.reserved = reserved;
            this.member = member;
            this.refusal = refusal;
            this.storeDown = storeDown;
        }

        /** Why the call is refused, or null. */
        public Refusal refusal() {
            return refusal;
        }

        /** True when the refusal is there because the store cannot be reached ({@code on-failure=refuse}). */
        public boolean storeUnreachable() {
            return storeDown;
        }
    }

    private static final Ticket LOCAL_ONLY = new Ticket(List.of(), null, null, false);

    SharedBudgets(BudgetStore store, String description, String namespace, StoreFailureMode onFailure,
                  Duration reservationLifetime, Clock clock, Consumer<String> warn) {
        this.store = store;
        this.description = description;
        this.namespace = namespace;
        this.onFailure = onFailure;
        this.reservationLifetimeMillis = reservationLifetime.toMillis();
        this.clock = clock;
        this.warn = warn;
        this.prober = new Thread(this::probe, "tokenguard-store");
        prober.setDaemon(true);
    }

    /**
     * Shares budgets through the Redis server at {@code address}. Returns at once: a background thread checks the
     * server (a wrong password or an unreachable host is reported in one line) and reconciles after outages.
     *
     * @param warn where the one-line reports go
     */
    public static SharedBudgets redis(StoreAddress address, String namespace, Duration timeout,
                                      StoreFailureMode onFailure, Duration reservationLifetime, Clock clock,
                                      Consumer<String> warn) {
        return redis(address, null, namespace, timeout, onFailure, reservationLifetime, clock, warn);
    }

    /**
     * As {@link #redis(StoreAddress, String, Duration, StoreFailureMode, Duration, Clock, Consumer)}.
     *
     * @param caFile for a {@code rediss://} store, the CA certificates its certificate must chain to; null for the
     *               JVM's trust store
     */
    public static SharedBudgets redis(StoreAddress address, Path caFile, String namespace, Duration timeout,
                                      StoreFailureMode onFailure, Duration reservationLifetime, Clock clock,
                                      Consumer<String> warn) {
        int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        SharedBudgets shared = new SharedBudgets(new RedisBudgetStore(address, caFile, millis), address.toString(),
                namespace, onFailure, reservationLifetime, clock, warn);
        shared.prober.start();
        return shared;
    }

    /** Whether calls of this budget are decided by the store (for a given call: see {@link #entries}). */
    public static boolean shareable(BudgetSpec spec) {
        return spec.scope().kind() != ScopeSpec.Kind.THREAD;
    }

    /**
     * Decides on a call with the store, after the engine admitted it in this JVM.
     *
     * @param budgets   the engine's budgets, in configuration order (their current limits)
     * @param estimate  what the call reserves (zero when reservation is off)
     * @param waitNanos how long the call may wait for calls in flight elsewhere; 0 for not at all
     */
    public Ticket admit(CallScope scope, List<BudgetSpec> budgets, Estimate estimate, long waitNanos) {
        List<Entry> entries = entries(scope, budgets, true);
        if (entries.isEmpty()) {
            return LOCAL_ONLY;
        }
        if (!reachable) {
            return decideAlone(entries);
        }
        long[] amounts = {estimate.totalTokens(), estimate.inputTokens(), estimate.outputTokens(),
                estimate.costNanoUsd()};
        String member = ID + "-" + sequence.incrementAndGet() + "|" + amounts[0] + "|" + amounts[1] + "|" + amounts[2]
                + "|" + amounts[3];
        List<BudgetStore.Entry> keys = storeEntries(entries);
        long deadline = System.nanoTime() + Math.max(0, waitNanos);
        long pause = POLL_MIN_NANOS;
        try {
            for (;;) {
                long now = clock.millis();
                boolean force = waitNanos <= 0 || System.nanoTime() - deadline >= 0
                        || Thread.currentThread().isInterrupted();
                BudgetStore.Decision d = store.admit(keys, amounts, member, now, now + reservationLifetimeMillis,
                        force);
                if (d.status() == BudgetStore.Decision.ADMITTED) {
                    for (int i = 0; i < entries.size(); i++) {
                        countsOf(entries.get(i)).seen(d.used()[i], now);
                    }
                    return new Ticket(entries, member, null, false);
                }
                if (d.status() == BudgetStore.Decision.EXHAUSTED) {
                    Entry e = entries.get(d.entry());
                    long used = d.used()[d.entry()][d.dimension()];
                    Counts c = countsOf(e);
                    c.lastSeen.accumulateAndGet(d.dimension(), used, Math::max);
                    c.seenAt = now;
                    return new Ticket(List.of(), null, new Refusal(e.budget.spec().name(), e.scopeKey, used,
                            e.budget.limits()[d.dimension()], LimitKind.values()[d.dimension()]), false);
                }
                LockSupport.parkNanos(pause); // calls in flight elsewhere hold what is left: wait for them to settle
                pause = Math.min(POLL_MAX_NANOS, pause * 2);
            }
        } catch (IOException | RuntimeException e) {
            if (!(e instanceof RespConnection.ServerError)) {
                // the reply was lost, not necessarily the admission: give back what it may have reserved
                unreleased.add(new Ticket(entries, member, null, false));
            }
            storeFailed(e);
            return decideAlone(entries);
        }
    }

    /** The decision while the store is away: counted from the fleet's usage last seen plus this JVM's since. */
    private Ticket decideAlone(List<Entry> entries) {
        for (Entry e : entries) {
            Counts c = countsOf(e);
            long[] limits = e.budget.limits();
            for (int d = 0; d < BudgetStore.DIMENSIONS; d++) {
                if (limits[d] == BudgetStore.NO_LIMIT) {
                    continue;
                }
                long used = c.used(d);
                if (onFailure == StoreFailureMode.REFUSE || used >= limits[d]) {
                    return new Ticket(List.of(), null, new Refusal(e.budget.spec().name(), e.scopeKey, used,
                            limits[d], LimitKind.values()[d]), onFailure == StoreFailureMode.REFUSE);
                }
            }
        }
        return new Ticket(List.of(), null, null, false);
    }

    /**
     * Charges a finished call to the store and returns the engine's result with the fleet's figures for the shared
     * budgets: their states (used across the fleet) and only the warnings this JVM was the first to cross.
     */
    public ChargeResult settle(Ticket ticket, CallScope scope, List<BudgetSpec> budgets, ChargeResult local,
                               long inputTokens, long outputTokens, Double costUsd) {
        if (ticket != null && !ticket.open.compareAndSet(true, false)) {
            ticket = null; // released already (abandoned): charged all the same, given back no second time
        }
        List<Entry> entries = entries(scope, budgets, false);
        if (entries.isEmpty()) {
            if (ticket != null && !ticket.reserved.isEmpty()) {
                releaseNow(ticket);
            }
            return withLateCrossings(local);
        }
        long[] usage = {inputTokens + outputTokens, inputTokens, outputTokens, nanoUsd(costUsd)};
        String member = null;
        if (ticket != null && ticket.member != null) {
            if (sameKeys(ticket.reserved, entries)) {
                member = ticket.member;
            } else {
                releaseNow(ticket); // the window turned between admission and charge
            }
        }
        long[][] used = new long[entries.size()][];
        List<ThresholdCrossing> crossings = new ArrayList<>();
        boolean charged = false;
        if (reachable) {
            try {
                BudgetStore.Settlement s = store.settle(storeEntries(entries), usage, member);
                for (int i = 0; i < entries.size(); i++) {
                    Entry e = entries.get(i);
                    countsOf(e).seen(s.used()[i], clock.millis());
                    used[i] = s.used()[i];
                    addCrossings(crossings, e, s.used()[i], s.crossed()[i]);
                }
                charged = true;
            } catch (IOException | RuntimeException e) {
                storeFailed(e);
            }
        }
        if (!charged) {
            if (member != null) {
                unreleased.add(ticket);
            }
            for (int i = 0; i < entries.size(); i++) {
                Counts c = countsOf(entries.get(i));
                used[i] = new long[BudgetStore.DIMENSIONS];
                for (int d = 0; d < BudgetStore.DIMENSIONS; d++) {
                    c.unsynced.addAndGet(d, usage[d]);
                    used[i][d] = c.used(d);
                }
            }
        }
        return withLateCrossings(merge(local, entries, used, crossings));
    }

    /** Gives back what an admitted call reserved in the store (the call failed before any usage, or was abandoned). */
    public void release(Ticket ticket) {
        if (ticket != null && !ticket.reserved.isEmpty() && ticket.open.compareAndSet(true, false)) {
            releaseNow(ticket);
        }
    }

    private void releaseNow(Ticket ticket) {
        if (!reachable) {
            unreleased.add(ticket);
            return;
        }
        try {
            store.release(keysOf(ticket.reserved), ticket.member);
        } catch (IOException | RuntimeException e) {
            storeFailed(e);
            unreleased.add(ticket);
        }
    }

    /** Whether this budget's warnings come from the store (so another JVM may have reported the lower ones). */
    public boolean shares(String budgetName, CallScope scope) {
        String key = scope.scopeKey(budgetName);
        return key != null && !key.startsWith("thread:");
    }

    private ChargeResult merge(ChargeResult local, List<Entry> entries, long[][] used,
                               List<ThresholdCrossing> fleetCrossings) {
        List<BudgetState> states = new ArrayList<>(local.states());
        for (int s = 0; s < states.size(); s++) {
            BudgetState st = states.get(s);
            for (int i = 0; i < entries.size(); i++) {
                Entry e = entries.get(i);
                if (e.budget.spec().name().equals(st.name())) {
                    states.set(s, new BudgetState(st.name(), st.scopeKey(), used[i][bindingDimension(e, st)],
                            st.limit()));
                }
            }
        }
        List<ThresholdCrossing> crossings = new ArrayList<>();
        for (ThresholdCrossing c : local.crossings()) {
            if (!isShared(c.budgetName(), entries)) {
                crossings.add(c);
            }
        }
        crossings.addAll(fleetCrossings);
        return new ChargeResult(states, crossings.isEmpty() ? List.of() : crossings);
    }

    private ChargeResult withLateCrossings(ChargeResult r) {
        if (lateCrossings.isEmpty()) {
            return r;
        }
        List<ThresholdCrossing> crossings = new ArrayList<>(r.crossings());
        for (ThresholdCrossing c; (c = lateCrossings.poll()) != null; ) {
            crossings.add(c);
        }
        return new ChargeResult(r.states(), crossings);
    }

    private static boolean isShared(String budgetName, List<Entry> entries) {
        for (Entry e : entries) {
            if (e.budget.spec().name().equals(budgetName)) {
                return true;
            }
        }
        return false;
    }

    /** The dimension a state reports: total when the budget has a total limit, else the input or output one shown. */
    private static int bindingDimension(Entry e, BudgetState st) {
        long[] limits = e.budget.limits();
        if (limits[0] != BudgetStore.NO_LIMIT || st.limit() == BudgetStore.NO_LIMIT) {
            return 0;
        }
        return limits[1] == st.limit() ? 1 : 2;
    }

    private static void addCrossings(List<ThresholdCrossing> out, Entry e, long[] used, int[] crossed) {
        double[] warnAt = e.budget.spec().warnAt();
        for (int k = 0; k + 1 < crossed.length; k += 2) {
            int t = crossed[k];
            int d = crossed[k + 1];
            out.add(new ThresholdCrossing(e.budget.spec().name(), e.scopeKey, warnAt[t], used[d],
                    e.budget.limits()[d], LimitKind.values()[d]));
        }
    }

    /** The shared budgets of a call; for admission only the enforcing ones with a limit. */
    private List<Entry> entries(CallScope scope, List<BudgetSpec> budgets, boolean admission) {
        List<Entry> out = null;
        long now = clock.millis();
        for (BudgetSpec spec : budgets) {
            if (!shareable(spec)) {
                continue;
            }
            String scopeKey = scope.scopeKey(spec.name());
            if (scopeKey == null || scopeKey.startsWith("thread:")) {
                continue; // an mdc: budget's call without an MDC value counts on its thread
            }
            Compiled c = compiled.computeIfAbsent(spec, SharedBudgets::compile);
            if (admission && (!c.enforce() || !hasLimit(c.limits()))) {
                continue;
            }
            if (out == null) {
                out = new ArrayList<>(2);
            }
            out.add(entry(c, scopeKey, now));
        }
        return out == null ? List.of() : out;
    }

    /** The store entry of a budget's scope instance in the window of {@code now}. */
    private Entry entry(Compiled c, String scopeKey, long now) {
        long window = window(c, now);
        long ttl = c.windowMillis() == 0 ? 0 : (window + 1) * c.windowMillis() - now + 60_000;
        String key = "tokenguard:" + namespace + ":" + c.spec().name() + ":" + scopeKey + ":" + window;
        return new Entry(new BudgetStore.Entry(key, c.limits(), c.points(), ttl), c, scopeKey);
    }

    private static long window(Compiled c, long now) {
        return c.windowMillis() == 0 ? 0 : Math.floorDiv(now, c.windowMillis());
    }

    @Override
    public boolean shares(BudgetSpec spec) {
        return shareable(spec);
    }

    /**
     * The fleet's usage of a scope instance as this JVM last saw it (plus what it spent that the store has not
     * counted yet); never waits for the store. A value older than a second asks the background thread to read it
     * anew, so a JVM that makes no calls still follows the fleet.
     */
    @Override
    public long[] usage(BudgetSpec spec, String scopeKey) {
        if (!shareable(spec) || scopeKey == null || scopeKey.startsWith("thread:")) {
            return null;
        }
        long now = clock.millis();
        Entry e = entry(compiled.computeIfAbsent(spec, SharedBudgets::compile), scopeKey, now);
        Counts c = countsOf(e);
        c.readAt = now;
        if (now - c.seenAt > REFRESH_AFTER_MILLIS && refreshWanted.compareAndSet(false, true)) {
            LockSupport.unpark(prober);
        }
        return c.seenAt == 0 ? null : usedOf(c);
    }

    @Override
    public Map<String, long[]> scopes(BudgetSpec spec) {
        if (!shareable(spec)) {
            return Map.of();
        }
        long now = clock.millis();
        Map<String, long[]> out = new java.util.TreeMap<>();
        for (Counts c : counts.values()) {
            Compiled b = c.entry.budget;
            if (b.spec().name().equals(spec.name()) && c.seenAt != 0
                    && c.entry.store.key().endsWith(":" + window(b, now))) {
                out.put(c.scopeKey, usedOf(c));
            }
        }
        return out;
    }

    private static long[] usedOf(Counts c) {
        long[] u = new long[BudgetStore.DIMENSIONS];
        for (int d = 0; d < u.length; d++) {
            u[d] = c.used(d);
        }
        return u;
    }

    /** Reads the fleet's usage of the scope instances read lately through {@link FleetView}. */
    private void refresh() throws IOException {
        long now = clock.millis();
        List<Counts> wanted = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (Counts c : counts.values()) {
            if (now - c.readAt <= REFRESH_INTEREST_MILLIS && c.entry.store.key().endsWith(":" + window(c.entry.budget,
                    now))) {
                wanted.add(c);
                keys.add(c.entry.store.key());
            }
        }
        if (keys.isEmpty()) {
            return;
        }
        long[][] used = store.read(keys);
        for (int i = 0; i < wanted.size(); i++) {
            Counts c = wanted.get(i);
            c.seen(used[i], now); // a charge may have told a newer figure meanwhile: the higher one stays
        }
    }

    private static boolean hasLimit(long[] limits) {
        for (long l : limits) {
            if (l != BudgetStore.NO_LIMIT) {
                return true;
            }
        }
        return false;
    }

    private static boolean sameKeys(List<Entry> a, List<Entry> b) {
        if (a.isEmpty()) {
            return false;
        }
        for (Entry x : a) {
            boolean found = false;
            for (Entry y : b) {
                found |= x.store.key().equals(y.store.key());
            }
            if (!found) {
                return false;
            }
        }
        return true;
    }

    private static List<BudgetStore.Entry> storeEntries(List<Entry> entries) {
        List<BudgetStore.Entry> out = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            out.add(e.store);
        }
        return out;
    }

    private static List<String> keysOf(List<Entry> entries) {
        List<String> out = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            out.add(e.store.key());
        }
        return out;
    }

    private Counts countsOf(Entry e) {
        Counts c = counts.get(e.store.key());
        return c != null ? c : counts.computeIfAbsent(e.store.key(), k -> new Counts(
                new Entry(e.store, e.budget, e.scopeKey), e.budget.spec().name(), e.scopeKey));
    }

    private static Compiled compile(BudgetSpec spec) {
        long[] limits = {orNone(spec.maxTokens()), orNone(spec.maxInputTokens()), orNone(spec.maxOutputTokens()),
                spec.maxCostUsd() == null ? BudgetStore.NO_LIMIT : BigDecimal.valueOf(spec.maxCostUsd())
                        .movePointRight(9).setScale(0, RoundingMode.HALF_UP).longValueExact()};
        double[] warnAt = spec.warnAt();
        long[][] points = new long[warnAt.length][BudgetStore.DIMENSIONS];
        for (int t = 0; t < warnAt.length; t++) {
            BigDecimal f = BigDecimal.valueOf(warnAt[t]);
            for (int d = 0; d < BudgetStore.DIMENSIONS; d++) {
                points[t][d] = limits[d] == BudgetStore.NO_LIMIT ? -1
                        : f.multiply(BigDecimal.valueOf(limits[d])).setScale(0, RoundingMode.CEILING).longValueExact();
            }
        }
        long window = spec.window() == null ? 0 : spec.window().toMillis();
        return new Compiled(spec, limits, points, window, spec.mode() == EnforcementMode.ENFORCE);
    }

    private static long orNone(Long v) {
        return v == null ? BudgetStore.NO_LIMIT : v;
    }

    /** Cost in USD to nano-USD as the engine counts it (rounded half up; none, negative or not finite: 0). */
    private static long nanoUsd(Double costUsd) {
        if (costUsd == null || !(costUsd > 0) || Double.isInfinite(costUsd)) {
            return 0;
        }
        return Math.round(costUsd * 1e9);
    }

    private void storeFailed(Throwable e) {
        reachable = false;
        if (store instanceof RedisBudgetStore r) {
            r.dropAll();
        }
        if (outageReported.compareAndSet(false, true)) {
            warn.accept("TokenGuard: the budget store " + description + " cannot be reached (" + reason(e) + "); "
                    + (onFailure == StoreFailureMode.REFUSE
                    ? "calls of shared budgets are refused until it is back (tokenguard.store.on-failure=refuse)"
                    : "shared budgets count in this JVM until it is back, then what was spent is added to it"
                    + " (tokenguard.store.on-failure=local)"));
        }
        LockSupport.unpark(prober);
    }

    private String reason(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof RespConnection.ServerError se
                && (se.code().equals("WRONGPASS") || se.code().equals("NOAUTH") || m.contains("AUTH"))) {
            return "it refused the password: " + m + "; expected the password of the store in the URL or in "
                    + StoreAddress.PASSWORD_VARIABLE;
        }
        if (e instanceof java.net.SocketTimeoutException) {
            return "no answer within the timeout, tokenguard.store.timeout";
        }
        if (e instanceof javax.net.ssl.SSLException) {
            return tlsReason((javax.net.ssl.SSLException) e);
        }
        return e.getClass().getSimpleName() + ": " + m;
    }

    /** Why a TLS connection failed, in the words of what to change: trust, the host name, or TLS at all. */
    private static String tlsReason(javax.net.ssl.SSLException e) {
        Throwable innermost = e;
        boolean certificate = false;
        for (Throwable t = e; t != null; t = t.getCause()) {
            certificate |= t instanceof java.security.cert.CertificateException;
            innermost = t;
        }
        String m = String.valueOf(innermost.getMessage());
        if (certificate && (m.contains("subject alternative name") || m.contains("No name matching"))) {
            return "its TLS certificate does not name the host of the URL (" + m + "); expected a certificate issued"
                    + " for the host in tokenguard.store";
        }
        if (certificate) {
            return "its TLS certificate is not trusted (" + m + "); expected a certificate that chains to a CA in"
                    + " tokenguard.store.tls.ca-file or, without it, in the JVM's trust store"
                    + " (javax.net.ssl.trustStore)";
        }
        return "the TLS handshake failed (" + m + "); expected a TLS port for a rediss:// URL (redis:// for a plain"
                + " one)";
    }

    /** Checks the store at start, then after every failure until it answers, and adds what was spent meanwhile. */
    private void probe() {
        boolean first = true;
        while (!closed) {
            try {
                if (first || !reachable || !unreleased.isEmpty() || hasUnsynced()) {
                    store.ping();
                    reconcile();
                    boolean wasDown = !reachable || outageReported.get();
                    reachable = true;
                    if (wasDown && outageReported.compareAndSet(true, false)) {
                        warn.accept("TokenGuard: the budget store " + description + " answers again; shared budgets"
                                + " are decided by it from now on");
                    }
                    first = false;
                }
                if (reachable && refreshWanted.getAndSet(false)) {
                    refresh();
                }
            } catch (IOException | RuntimeException e) {
                first = false;
                storeFailed(e);
            }
            LockSupport.parkNanos(PROBE_INTERVAL_MILLIS * 1_000_000L);
        }
    }

    private boolean hasUnsynced() {
        for (Counts c : counts.values()) {
            for (int d = 0; d < BudgetStore.DIMENSIONS; d++) {
                if (c.unsynced.get(d) != 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Adds what this JVM spent while the store was away, and gives back reservations it could not give back then. */
    private void reconcile() throws IOException {
        for (Counts c : counts.values()) {
            long[] amounts = new long[BudgetStore.DIMENSIONS];
            boolean any = false;
            for (int d = 0; d < amounts.length; d++) {
                amounts[d] = c.unsynced.getAndSet(d, 0);
                any |= amounts[d] != 0;
            }
            if (!any) {
                continue;
            }
            try {
                BudgetStore.Settlement s = store.settle(List.of(c.entry.store), amounts, null);
                c.seen(s.used()[0], clock.millis());
                List<ThresholdCrossing> found = new ArrayList<>();
                addCrossings(found, c.entry, s.used()[0], s.crossed()[0]);
                lateCrossings.addAll(found);
            } catch (IOException | RuntimeException e) {
                for (int d = 0; d < amounts.length; d++) {
                    c.unsynced.addAndGet(d, amounts[d]); // kept for the next attempt
                }
                throw e;
            }
        }
        for (Ticket t; (t = unreleased.peek()) != null; ) {
            store.release(keysOf(t.reserved), t.member);
            unreleased.poll();
        }
    }

    /** Tokens this JVM spent that the store has not counted yet, per dimension summed over keys (for tests). */
    long[] unsynced() {
        long[] out = new long[BudgetStore.DIMENSIONS];
        for (Counts c : counts.values()) {
            for (int d = 0; d < out.length; d++) {
                out[d] += c.unsynced.get(d);
            }
        }
        return out;
    }

    boolean reachable() {
        return reachable;
    }

    /** Adds what is still unsynced (one attempt, bounded by the timeout) and closes the connections. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(prober);
        try {
            store.ping();
            reconcile();
        } catch (IOException | RuntimeException e) {
            // the store is away at shutdown: what this JVM spent since it left stays uncounted there
        }
        store.close();
    }

    @Override
    public String toString() {
        return "SharedBudgets[" + description + ", namespace " + namespace + "]";
    }
}
