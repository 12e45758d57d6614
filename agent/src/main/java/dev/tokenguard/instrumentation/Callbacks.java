package dev.tokenguard.instrumentation;

import dev.tokenguard.core.AgentLog;

import java.util.function.Supplier;

/**
 * The one guard for agent code that runs after the advice has returned: a stream's elements and
 * end, a response's parse and close, a future's completion. Such code runs on the application's
 * threads inside the SDK's own objects, so an internal failure there is reported once and the
 * application carries on as if the agent were not there.
 */
public final class Callbacks {
    private Callbacks() {
    }

    /** Runs {@code callback}; a failure is reported once under {@code kind}. */
    public static void run(String kind, Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException | LinkageError | StackOverflowError e) {
            AgentLog.failure(kind, e);
        }
    }

    /** The value of {@code callback}, or {@code fallback} when it fails (reported once under {@code kind}). */
    public static <T> T get(String kind, Supplier<T> callback, T fallback) {
        try {
            return callback.get();
        } catch (RuntimeException | LinkageError | StackOverflowError e) {
            AgentLog.failure(kind, e);
            return fallback;
        }
    }
}
