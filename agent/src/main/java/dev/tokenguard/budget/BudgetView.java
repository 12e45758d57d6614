package dev.tokenguard.budget;

/**
 * One budget as it stands for one scope instance, in every unit it counts: the tokens of its binding limit (as
 * {@link BudgetState}) and the cost, with the end of its current window. What the public API answers.
 *
 * @param name            the budget's name
 * @param scopeKey        the scope instance, e.g. {@code thread:main#1}, {@code global}, {@code mdc:tenant=acme}
 * @param used            tokens used in the current window (of the binding limit, as {@link BudgetState#used()})
 * @param limit           the token limit, or -1 when the budget has none
 * @param usedNanoUsd     cost used in the current window, in nano-USD
 * @param limitNanoUsd    the cost limit in nano-USD, or -1 when the budget has none
 * @param windowEndMillis when the current window ends (epoch ms), or 0 when the budget has no window
 * @param fleet           true when the usage is the fleet's, as the shared store last counted it ({@link FleetView}),
 *                        false when it is this JVM's own
 */
public record BudgetView(String name, String scopeKey, long used, long limit, long usedNanoUsd, long limitNanoUsd,
                         long windowEndMillis, boolean fleet) {
    /** A view of this JVM's own usage. */
    public BudgetView(String name, String scopeKey, long used, long limit, long usedNanoUsd, long limitNanoUsd,
                      long windowEndMillis) {
        this(name, scopeKey, used, limit, usedNanoUsd, limitNanoUsd, windowEndMillis, false);
    }
}
