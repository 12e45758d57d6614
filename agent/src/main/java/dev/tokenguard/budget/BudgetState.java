package dev.tokenguard.budget;

/**
 * A budget's state for one scope instance right after a charge or check, as the session log's
 * {@code budget} field and the span attributes report it.
 *
 * <p>{@code used} and {@code limit} are those of the budget's binding dimension: total tokens when
 * the budget has a total limit, otherwise the token limit (input or output) closest to being
 * exhausted. {@code limit} is -1 when the budget has no token limit at all (cost only).
 *
 * @param name     the budget's name
 * @param scopeKey the scope instance, e.g. {@code thread:main#1}, {@code global}, {@code mdc:tenant=acme}
 * @param used     tokens used in the scope instance's current window
 * @param limit    the limit, or -1 when the budget has no token limit
 */
public record BudgetState(String name, String scopeKey, long used, long limit) {
}
