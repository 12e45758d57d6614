package dev.tokenguard.budget;

/**
 * How close one scope instance of one budget is to exhaustion, as the utilization gauge reports it.
 *
 * @param budgetName  the budget
 * @param scopeKey    the scope instance, e.g. {@code thread:worker-3#41}, {@code global}, {@code mdc:tenant=acme}
 * @param utilization the highest used / limit over the budget's limits (tokens and cost) in the current window:
 *                    0 when nothing is used yet, 1 or more once exhausted
 */
public record ScopeUtilization(String budgetName, String scopeKey, double utilization) {
}
