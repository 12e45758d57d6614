package dev.tokenguard.budget;

/**
 * Told by the {@link BudgetEngine} when a session starts and ends; the session log implements it.
 *
 * <p>{@link #sessionStarted} is called exactly once per session, before any call is charged to it;
 * {@link #sessionEnded} exactly once, after the last charge that the session's totals include.
 * The engine holds the scope instance's lifecycle lock during both calls: a listener must not
 * call back into the engine.
 */
public interface SessionListener {
    /** Ends nothing, starts nothing. */
    SessionListener NONE = new SessionListener() {
        @Override
        public void sessionStarted(Session session) {
        }

        @Override
        public void sessionEnded(Session session, String reason) {
        }
    };

    /** Reason of {@link #sessionEnded}: the session's thread ended. */
    String THREAD_END = "thread_end";
    /** Reason of {@link #sessionEnded}: the engine was closed (JVM shutdown). */
    String SHUTDOWN = "shutdown";
    /** Reason of {@link #sessionEnded}: the default budget's window passed a boundary. */
    String WINDOW_RESET = "window_reset";
    /**
     * Reason of {@link #sessionEnded}: the session's scope instance (MDC value or thread) had no call for the
     * idle-release time.
     */
    String IDLE = "idle";

    void sessionStarted(Session session);

    /** @param reason {@code thread_end}, {@code shutdown}, {@code window_reset} or {@code idle} */
    void sessionEnded(Session session, String reason);
}
