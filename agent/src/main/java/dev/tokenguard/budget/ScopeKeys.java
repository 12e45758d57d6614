package dev.tokenguard.budget;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Bounds what a scope key taken from outside costs. An MDC value is the application's (a user id, a tenant, a
 * request header): it becomes part of the scope key, the session id, every session-log line and the file name. A
 * value of at most {@value #MAX_PLAIN} characters is kept as it is; a longer one is kept as its first
 * {@value #PREFIX} characters, {@code ~h} and 16 hex digits of the SHA-256 of the whole value (so that distinct
 * values keep distinct scopes): {@value #BOUNDED} characters whatever its length.
 */
final class ScopeKeys {
    static final int MAX_PLAIN = 64;
    static final int PREFIX = 48;
    static final int BOUNDED = PREFIX + 2 + 16;

    private ScopeKeys() {
    }

    /** The value as it appears in a scope key: itself, or bounded as the class describes. */
    static String boundedValue(String value) {
        if (value.length() <= MAX_PLAIN) {
            return value;
        }
        int cut = PREFIX;
        if (Character.isHighSurrogate(value.charAt(cut - 1))) {
            cut--; // never split a surrogate pair
        }
        return value.substring(0, cut) + "~h" + sha256Hex16(value);
    }

    private static String sha256Hex16(String value) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_16BE));
            StringBuilder hex = new StringBuilder(16);
            for (int i = 0; i < 8; i++) {
                hex.append(Character.forDigit((digest[i] >> 4) & 0xF, 16)).append(Character.forDigit(digest[i] & 0xF, 16));
            }
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
