package dev.tokenguard.core;

import java.io.PrintStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The agent's own, deliberately tiny log: one line per instrumented SDK at start-up, and each kind
 * of internal failure reported once. It writes to stderr directly so that it never initialises the
 * application's logging framework, and never writes to stdout.
 */
public final class AgentLog {
    private static final String PREFIX = "[tokenguard] ";
    private static final Set<String> REPORTED = ConcurrentHashMap.newKeySet();
    private static final AtomicLong FAILURES = new AtomicLong();

    private AgentLog() {
    }

    /** An INFO line; used only for the start-up lines. */
    public static void info(String message) {
        out().println(PREFIX + message);
    }

    /** A configuration or start-up error, printed as given (already one clear line). */
    public static void error(String message) {
        out().println(message.startsWith("TokenGuard") ? message : PREFIX + message);
    }

    /**
     * An internal failure: counted always, printed once per kind. The call that hit it proceeds.
     *
     * @param kind  a stable name of the failure's kind, e.g. {@code openai.usage}
     * @param error what failed
     */
    public static void failure(String kind, Throwable error) {
        FAILURES.incrementAndGet();
        if (REPORTED.add(kind)) {
            out().println(PREFIX + "internal error (" + kind + "), the call proceeds ungoverned where needed; "
                    + "further errors of this kind are counted, not printed: " + describe(error));
        }
    }

    /** A failure described by a message only, printed once per kind. */
    public static void failure(String kind, String message) {
        FAILURES.incrementAndGet();
        if (REPORTED.add(kind)) {
            out().println(PREFIX + message);
        }
    }

    /** How many internal failures happened. */
    public static long failures() {
        return FAILURES.get();
    }

    private static String describe(Throwable error) {
        String message = error.getMessage();
        return error.getClass().getName() + (message == null ? "" : ": " + firstLine(message));
    }

    private static String firstLine(String text) {
        int nl = text.indexOf('\n');
        String line = nl < 0 ? text : text.substring(0, nl);
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }

    /** Where lines go: the JVM's stderr as it is when the line is written. */
    private static PrintStream out() {
        return System.err;
    }
}
