package dev.tokenguard.budget;

import java.util.Objects;

/**
 * Why a call is refused: the first enforcing budget of the call that is exhausted.
 *
 * @param budgetName the exhausted budget
 * @param scopeKey   its scope instance, e.g. {@code thread:worker-3#41}
 * @param used       usage of the exhausted dimension (tokens, or nano-USD for {@link LimitKind#COST_NANO_USD})
 * @param limit      the limit of that dimension, same unit
 * @param kind       the exhausted dimension
 */
public record Refusal(String budgetName, String scopeKey, long used, long limit, LimitKind kind) {
    public Refusal {
        Objects.requireNonNull(kind, "kind");
    }

    /** A refusal on the total-token dimension. */
    public Refusal(String budgetName, String scopeKey, long used, long limit) {
        this(budgetName, scopeKey, used, limit, LimitKind.TOTAL_TOKENS);
    }
}
