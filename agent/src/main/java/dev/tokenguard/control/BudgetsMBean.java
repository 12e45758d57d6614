package dev.tokenguard.control;

/**
 * The agent's live budgets as JMX shows them, {@code dev.tokenguard:type=Budgets}: what jconsole, VisualVM and the
 * {@code status} / {@code set} commands read and change. JDK types only, so any JMX client can use it.
 */
public interface BudgetsMBean {
    /** False while governance is switched off: calls pass uncharged and unrefused. */
    boolean isEnabled();

    /** The SDKs governed so far, name and version as the start-up lines give them; empty before the first one. */
    String[] getSdks();

    /** The budgets' names, the default budget first. */
    String[] getBudgetNames();

    /** Per budget, {@code name: max-tokens=..., mode=...}. */
    String[] getLimits();

    /** Per budget, {@code name=enforce} or {@code name=warn}. */
    String[] getModes();

    /**
     * Per budget, {@code name=<tokens>}: the tokens used in the current window over every scope held; {@code
     * name=<tokens> (fleet)} for a budget a store shares with other JVMs (the fleet's count as last seen).
     */
    String[] getTotalUsed();

    /** The scopes closest to their limit, {@code budget scope used/limit (percent)}, highest first. */
    String[] getTopScopes();

    long getCalls();

    long getRefusals();

    long getWarnings();

    /** Everything above as the text the {@code status} command prints. */
    String status();

    /**
     * Changes one setting, as {@code key=value} in agent-argument form: {@code budget.max-tokens=200k},
     * {@code mode=warn}, {@code budgets.batch.max-tokens=1m}, {@code enabled=false}, or {@code reset scope=<key>}.
     *
     * @return what changed, one line
     * @throws IllegalArgumentException with the start-up configuration's one-line error; nothing changes
     */
    String set(String setting);

    /** As {@link #set(String)}, recording {@code by} (the OS user who asked) in the session log. */
    String setBy(String setting, String by);

    /**
     * Several settings at once, all or nothing: every one is checked (each on top of those before it) before any is
     * made, so a bad one anywhere changes nothing. The {@code set} command's way in.
     *
     * @return what changed, one line per setting
     * @throws IllegalArgumentException with the one-line error of the first bad setting; nothing changes
     */
    String setAllBy(String[] settings, String by);

    /** Sets the current usage of every scope instance with this key back to 0. */
    String resetScope(String scopeKey);

    /** Raises or lowers the total-token limit of one budget. */
    String setMaxTokens(String budget, long maxTokens);

    /** {@code enforce} or {@code warn}, for one budget. */
    String setMode(String budget, String mode);

    void switchOff();

    void switchOn();
}
