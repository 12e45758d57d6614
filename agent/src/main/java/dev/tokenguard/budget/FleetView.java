package dev.tokenguard.budget;

import java.util.Map;

/**
 * What the store that shares budgets with other JVMs ({@code tokenguard.store=redis://...}) last said of the fleet's
 * usage, so that what this JVM shows of a shared budget (JMX, {@code status}, the public API) is the fleet's figure,
 * not only its own share. Reads never wait for the store: they answer the last value seen (after this JVM's own calls,
 * or a background refresh that a read older than a second asks for).
 */
public interface FleetView {
    /** No store: every budget is this JVM's alone. */
    FleetView NONE = new FleetView() {
        @Override
        public boolean shares(BudgetSpec spec) {
            return false;
        }

        @Override
        public long[] usage(BudgetSpec spec, String scopeKey) {
            return null;
        }

        @Override
        public Map<String, long[]> scopes(BudgetSpec spec) {
            return Map.of();
        }
    };

    /** Whether the store decides this budget's calls (its {@code global} and {@code mdc:} scope instances). */
    boolean shares(BudgetSpec spec);

    /**
     * The fleet's usage of one scope instance in the current window, per dimension (total, input, output tokens, cost
     * in nano-USD), as last seen; null when the budget or scope instance is not shared or nothing is known of it yet.
     */
    long[] usage(BudgetSpec spec, String scopeKey);

    /** The shared scope instances of a budget whose fleet usage in the current window is known, by scope key. */
    Map<String, long[]> scopes(BudgetSpec spec);
}
