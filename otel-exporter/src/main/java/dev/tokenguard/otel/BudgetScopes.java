package dev.tokenguard.otel;

/** The kinds of scope instance keys TokenGuard's budgets use. */
public final class BudgetScopes {
    private BudgetScopes() {
    }

    /**
     * {@code thread} for {@code thread:<name>#<id>}, {@code mdc} for {@code mdc:<key>=<value>}, {@code global}
     * for {@code global}; {@code other} for anything else, {@code null} for null.
     */
    public static String kind(String scopeKey) {
        if (scopeKey == null) {
            return null;
        }
        if (scopeKey.startsWith("thread:")) {
            return "thread";
        }
        if (scopeKey.startsWith("mdc:")) {
            return "mdc";
        }
        return scopeKey.equals("global") ? "global" : "other";
    }
}
