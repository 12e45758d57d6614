package dev.tokenguard.budget;

import java.util.Objects;

/**
 * A warning threshold crossed by one charge: reported once per budget, scope instance and window.
 *
 * @param budgetName the budget
 * @param scopeKey   its scope instance
 * @param threshold  the fraction of the limit, e.g. 0.75
 * @param used       usage of the dimension that crossed, right after the charge (tokens, or nano-USD for cost)
 * @param limit      the limit of that dimension, same unit
 * @param kind       the dimension that crossed
 */
public record ThresholdCrossing(String budgetName, String scopeKey, double threshold, long used, long limit,
                                LimitKind kind) {
    public ThresholdCrossing {
        Objects.requireNonNull(kind, "kind");
    }

    /** A crossing on the total-token dimension. */
    public ThresholdCrossing(String budgetName, String scopeKey, double threshold, long used, long limit) {
        this(budgetName, scopeKey, threshold, used, limit, LimitKind.TOTAL_TOKENS);
    }
}
