package dev.tokenguard.budget;

import java.util.Objects;

/**
 * How calls are grouped into scope instances that each have their own budget:
 * {@code thread}, {@code global} or {@code mdc:<key>}.
 */
public final class ScopeSpec {
    /** The kind of scope. */
    public enum Kind { THREAD, GLOBAL, MDC }

    public static final ScopeSpec THREAD = new ScopeSpec(Kind.THREAD, null);
    public static final ScopeSpec GLOBAL = new ScopeSpec(Kind.GLOBAL, null);

    private final Kind kind;
    private final String mdcKey;

    private ScopeSpec(Kind kind, String mdcKey) {
        this.kind = kind;
        this.mdcKey = mdcKey;
    }

    public static ScopeSpec mdc(String key) {
        if (key == null || key.isBlank()) {
            throw new IllegalArgumentException("an MDC scope needs a key, e.g. mdc:tenant");
        }
        return new ScopeSpec(Kind.MDC, key);
    }

    /**
     * Parses {@code thread}, {@code global} or {@code mdc:<key>}.
     *
     * @throws IllegalArgumentException naming the value and the expected forms
     */
    public static ScopeSpec parse(String text) {
        String t = text == null ? "" : text.trim();
        if (t.equals("thread")) {
            return THREAD;
        }
        if (t.equals("global")) {
            return GLOBAL;
        }
        if (t.startsWith("mdc:") && t.length() > 4) {
            return mdc(t.substring(4));
        }
        throw new IllegalArgumentException("'" + text + "' is not a scope; expected thread, global or mdc:<key>");
    }

    public Kind kind() {
        return kind;
    }

    /** The MDC key for {@link Kind#MDC}, otherwise {@code null}. */
    public String mdcKey() {
        return mdcKey;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScopeSpec s && s.kind == kind && Objects.equals(s.mdcKey, mdcKey);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, mdcKey);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case THREAD -> "thread";
            case GLOBAL -> "global";
            case MDC -> "mdc:" + mdcKey;
        };
    }
}
