package dev.tokenguard.budget;

/**
 * Reads the calling thread's MDC (SLF4J, Logback, Log4j2...) for {@code mdc:<key>} scopes. The budget
 * engine calls it on the thread that makes the LLM call.
 */
@FunctionalInterface
public interface MdcSource {
    /** An MDC that is always empty: {@code mdc:} scopes fall back to the thread scope. */
    MdcSource NONE = key -> null;

    /** The calling thread's MDC value for {@code key}, or {@code null} when absent. */
    String get(String key);
}
