package dev.tokenguard.core;

/** Where the token counts of a call come from. */
public enum UsageSource {
    /** Reported by the provider. */
    PROVIDER("provider"),
    /** Estimated locally because the provider reported none. */
    ESTIMATED("estimated");

    private final String wireName;

    UsageSource(String wireName) {
        this.wireName = wireName;
    }

    /** The value written to the session log ({@code usage_source}). */
    public String wireName() {
        return wireName;
    }
}
