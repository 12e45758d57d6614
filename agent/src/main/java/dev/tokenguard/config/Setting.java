package dev.tokenguard.config;

/**
 * One key/value pair as read from one source.
 *
 * @param key    the full key, e.g. {@code tokenguard.budget.max-tokens}
 * @param value  the trimmed value; empty when the source sets it blank, which counts as not set
 * @param source where it came from, for messages: "agent argument", "-D system property",
 *               "environment variable TOKENGUARD_MODE", "config file conf/tokenguard.yaml"
 */
record Setting(String key, String value, String source) {
    boolean isBlank() {
        return value.isEmpty();
    }
}
