package dev.tokenguard.api;

import java.util.Locale;

/**
 * Thrown from an instrumented LLM client method, before any request leaves the JVM, when a
 * token budget of the calling scope is exhausted and TokenGuard runs in {@code enforce} mode.
 *
 * <p>The agent appends this class to the bootstrap class path, so it is one and the same class
 * for every class loader of the application.
 */
public class BudgetExhaustedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String budgetName;
    private final String scope;
    private final long usedTokens;
    private final long limitTokens;

    public BudgetExhaustedException(String budgetName, String scope, long usedTokens, long limitTokens,
                                    String refusedCall) {
        super(message(budgetName, scope, usedTokens, limitTokens, refusedCall));
        this.budgetName = budgetName;
        this.scope = scope;
        this.usedTokens = usedTokens;
        this.limitTokens = limitTokens;
    }

    private static String message(String budgetName, String scope, long used, long limit, String refusedCall) {
        if (limit < 0) {
            // a budget with a cost limit only: the refused call's description names the cost
            return String.format(Locale.ROOT, "Budget '%s' exhausted for scope %s: %,d tokens used (no token limit);"
                    + " refused %s", budgetName, scope, used, refusedCall);
        }
        return String.format(Locale.ROOT, "Token budget '%s' exhausted for scope %s: %,d of %,d tokens used; refused %s",
                budgetName, scope, used, limit, refusedCall);
    }

    /** The name of the exhausted budget ({@code default} for the unnamed one). */
    public String budgetName() {
        return budgetName;
    }

    /** The scope instance whose budget is exhausted, e.g. {@code thread:worker-3#41} or {@code global}. */
    public String scope() {
        return scope;
    }

    /** Tokens used in the scope when the call was refused. */
    public long usedTokens() {
        return usedTokens;
    }

    /** The budget's token limit, or -1 when the budget has a cost limit only (the message then names the cost). */
    public long limitTokens() {
        return limitTokens;
    }
}
