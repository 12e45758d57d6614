package dev.tokenguard.config;

/** What shared budgets do while their store cannot be reached ({@code tokenguard.store.on-failure}). */
public enum StoreFailureMode {
    /** Keep counting in this JVM and add what was spent to the store when it is back. */
    LOCAL,
    /** Refuse the calls of shared budgets until the store is back. */
    REFUSE;

    static StoreFailureMode parse(String text) {
        return switch (text) {
            case "local" -> LOCAL;
            case "refuse" -> REFUSE;
            default -> throw new IllegalArgumentException("");
        };
    }
}
