package dev.tokenguard.otel;

import java.util.Objects;

/**
 * A warning threshold the call crossed; exported as one span event {@code tokenguard.budget.warning}.
 *
 * @param budgetName  the budget whose threshold was crossed
 * @param threshold   the fraction of the limit, e.g. {@code 0.75}
 * @param usedTokens  tokens used after the call, or {@code null} when unknown
 * @param limitTokens the token limit, or {@code null} when the budget has no token limit
 * @param scope       the budget's scope instance, e.g. {@code mdc:tenant=acme}, or {@code null} when unknown
 */
public record BudgetWarning(String budgetName, double threshold, Long usedTokens, Long limitTokens, String scope) {

    /** A warning whose scope instance is not known. */
    public BudgetWarning(String budgetName, double threshold, Long usedTokens, Long limitTokens) {
        this(budgetName, threshold, usedTokens, limitTokens, null);
    }

    public BudgetWarning {
        Objects.requireNonNull(budgetName, "budget name must not be null");
        if (!(threshold > 0 && threshold <= 1)) {
            throw new IllegalArgumentException(
                    "warning threshold must be a fraction in (0, 1], e.g. 0.75; got " + threshold);
        }
    }
}
