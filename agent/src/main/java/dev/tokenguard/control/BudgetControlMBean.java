package dev.tokenguard.control;

/**
 * One budget as JMX shows it, {@code dev.tokenguard:type=Budgets,name=<budget>}: in jconsole and VisualVM each budget
 * is a node of its own under {@code Budgets}, its limits and use as plain attributes. JDK types only.
 */
public interface BudgetControlMBean {
    String getName();

    /** {@code thread}, {@code global} or {@code mdc:<key>}. */
    String getScope();

    /** {@code enforce} or {@code warn}. */
    String getMode();

    /** Total (input + output) tokens per scope; -1 when the budget has no such limit. */
    long getMaxTokens();

    /** Input tokens per scope; -1 when none. */
    long getMaxInputTokens();

    /** Output tokens per scope; -1 when none. */
    long getMaxOutputTokens();

    /** Estimated USD per scope; -1 when none. */
    double getMaxCostUsd();

    /**
     * The tokens used in the current window over every scope the budget holds; with a shared store, the fleet's count
     * for its shared scopes ({@link #isFleetUsage()}).
     */
    long getTotalUsed();

    /** True when a store shares this budget with other JVMs, so the usage figures are the fleet's as last seen. */
    boolean isFleetUsage();

    /** This budget's scopes closest to their limit, {@code scope used / limit tokens (percent)}, highest first. */
    String[] getTopScopes();

    /** Raises or lowers the total-token limit, from the next call on; logged as {@code budget_changed}. */
    String setMaxTokens(long maxTokens);

    /** {@code enforce} or {@code warn}. */
    String setMode(String mode);

    /**
     * One of this budget's live keys as {@code key=value}: {@code max-tokens=200k}, {@code max-input-tokens=none},
     * {@code max-cost-usd=2.5}, {@code mode=warn}.
     */
    String set(String setting);

    /** Sets the usage of this scope key back to 0 (in every budget that holds it, as {@code set} does). */
    String resetScope(String scopeKey);
}
