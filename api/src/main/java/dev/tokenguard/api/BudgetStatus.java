package dev.tokenguard.api;

import java.time.Instant;

/**
 * One budget as it stands for one scope instance: what is used and what is left, in tokens and in USD.
 *
 * <p>The token figures are those of the budget's binding limit: total tokens when the budget has a total limit,
 * otherwise its input or output limit, whichever is closer to exhausted. The USD figures count the calls whose model
 * is priced.
 *
 * @param name        the budget's name ({@code default} for the unnamed one)
 * @param scope       the scope instance, e.g. {@code thread:worker-3#41}, {@code global}, {@code mdc:tenant=acme}
 * @param usedTokens  tokens used in the current window
 * @param limitTokens the token limit, or -1 when the budget has none (a cost limit only)
 * @param usedUsd     estimated USD spent in the current window
 * @param limitUsd    the cost limit in USD, or -1 when the budget has none
 * @param windowEnd   when the current window ends and usage starts again from 0, or null when the budget has no window
 */
public record BudgetStatus(String name, String scope, long usedTokens, long limitTokens, double usedUsd,
                           double limitUsd, Instant windowEnd) {

    /** Tokens left before the limit: 0 once exhausted, {@link Long#MAX_VALUE} when there is no token limit. */
    public long remainingTokens() {
        return limitTokens < 0 ? Long.MAX_VALUE : Math.max(0, limitTokens - usedTokens);
    }

    /** USD left before the cost limit: 0 once exhausted, infinity when there is no cost limit. */
    public double remainingUsd() {
        return limitUsd < 0 ? Double.POSITIVE_INFINITY : Math.max(0, limitUsd - usedUsd);
    }

    /** Whether a limit is reached ({@code used >= limit}): the next call of this scope is refused in enforce mode. */
    public boolean exhausted() {
        return (limitTokens >= 0 && usedTokens >= limitTokens) || (limitUsd >= 0 && usedUsd >= limitUsd);
    }
}
