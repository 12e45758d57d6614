package dev.tokenguard.budget;

import java.util.AbstractList;
import java.util.List;
import java.util.Objects;

/**
 * What one charge did: each budget's state right after it, in configuration order, and every threshold it crossed.
 *
 * <p>The engine fills one result per {@link CallScope} and fills it again at that scope's next charge (a call is
 * charged once; a benchmark charges one scope over and over), so a charge that crosses no threshold allocates
 * nothing. Read it before the scope is charged again. The states can be read by index ({@link #size()},
 * {@link #used(int)}, ...) without making {@link BudgetState} objects; {@link #states()} makes them on first use.
 */
public final class ChargeResult {
    private final CallScope scope;
    private final List<BudgetState> fixedStates;
    private final int size;
    /** Budget 0's state (the default budget), kept in fields: a call of one budget makes no array. */
    private long used0;
    private long limit0;
    /** Budgets 1 and up, by index (slot 0 unused); null when there is only the default budget. */
    private final long[] used;
    private final long[] limits;
    private List<ThresholdCrossing> crossings;
    private List<BudgetState> states;

    /**
     * A result of the given states and crossings (for telemetry sinks and tests).
     *
     * @param states    each budget's state right after the charge, in configuration order
     * @param crossings every threshold the charge crossed, per budget in configuration order, ascending by
     *                  threshold; an empty list when none
     */
    public ChargeResult(List<BudgetState> states, List<ThresholdCrossing> crossings) {
        this.scope = null;
        this.fixedStates = List.copyOf(states);
        this.states = fixedStates;
        this.size = fixedStates.size();
        this.used = null;
        this.limits = null;
        this.crossings = Objects.requireNonNull(crossings, "crossings");
    }

    /** The engine's result for {@code scope}, filled by {@link #set} at each charge. */
    ChargeResult(CallScope scope) {
        this.scope = scope;
        this.fixedStates = null;
        this.size = scope.instances.length;
        this.used = size > 1 ? new long[size] : null;
        this.limits = size > 1 ? new long[size] : null;
    }

    /** Budget {@code i}'s state: its binding {@code used} and {@code limit} (as {@link BudgetState}). */
    void set(int i, long usedNow, long limit) {
        if (i == 0) {
            used0 = usedNow;
            limit0 = limit;
        } else {
            used[i] = usedNow;
            limits[i] = limit;
        }
    }

    /** Starts filling a new charge's result. */
    void reset(List<ThresholdCrossing> crossings) {
        this.crossings = crossings;
        this.states = null;
    }

    void crossings(List<ThresholdCrossing> crossings) {
        this.crossings = crossings;
    }

    /** How many budgets the call was charged to. */
    public int size() {
        return size;
    }

    /** Budget {@code i}'s name. */
    public String name(int i) {
        return fixedStates != null ? fixedStates.get(i).name() : scope.instances[i].limits.name;
    }

    /** The scope instance budget {@code i} was charged in, e.g. {@code thread:main#1}. */
    public String scopeKey(int i) {
        return fixedStates != null ? fixedStates.get(i).scopeKey() : scope.instances[i].key;
    }

    /** Budget {@code i}'s used tokens after the charge (see {@link BudgetState#used()}). */
    public long used(int i) {
        return fixedStates != null ? fixedStates.get(i).used() : i == 0 ? used0 : used[i];
    }

    /** Budget {@code i}'s limit, or -1 when it has no token limit (see {@link BudgetState#limit()}). */
    public long limit(int i) {
        return fixedStates != null ? fixedStates.get(i).limit() : i == 0 ? limit0 : limits[i];
    }

    /** Each budget's state right after the charge, in configuration order. */
    public List<BudgetState> states() {
        List<BudgetState> s = states;
        if (s == null) {
            BudgetState[] made = new BudgetState[size()];
            for (int i = 0; i < made.length; i++) {
                made[i] = new BudgetState(name(i), scopeKey(i), used(i), limit(i));
            }
            s = List.of(made);
            states = s;
        }
        return s;
    }

    /** Every threshold this charge crossed, per budget in configuration order, ascending by threshold; empty when none. */
    public List<ThresholdCrossing> crossings() {
        return crossings;
    }

    @Override
    public String toString() {
        return "ChargeResult[states=" + states() + ", crossings=" + crossings + "]";
    }
}
