package dev.tokenguard.budget;

/** What a budget does once it is exhausted. */
public enum EnforcementMode {
    /** Refuse the next call of the exhausted scope with {@code BudgetExhaustedException}. */
    ENFORCE,
    /** Never refuse: only warn and log. */
    WARN
}
