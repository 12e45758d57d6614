package dev.tokenguard.otel;

import java.util.Objects;

/**
 * How much of its limit one scope instance of one budget has used, as the
 * {@code tokenguard.budget.utilization} gauge reports it.
 *
 * @param budgetName  the budget, e.g. {@code default}
 * @param scope       the scope instance, e.g. {@code thread:worker-3#42}, {@code global}, {@code mdc:tenant=acme}
 * @param utilization used / limit of the limit closest to exhaustion (1.0 = exhausted; may exceed 1)
 */
public record BudgetUtilization(String budgetName, String scope, double utilization) {
    public BudgetUtilization {
        Objects.requireNonNull(budgetName, "budget name must not be null; the default budget is called 'default'");
        Objects.requireNonNull(scope, "scope must not be null; e.g. 'global'");
    }

    /** {@link BudgetScopes#kind(String)} of the scope. */
    public String scopeKind() {
        return BudgetScopes.kind(scope);
    }
}
