package dev.tokenguard.instrumentation;

/** Watches the elements of a streamed response on their way to the app. */
public interface StreamObserver {

    /** An element arrived; returns whether the app sees it (false hides an element the agent asked for). */
    boolean onElement(Object element);

    /**
     * The source ran out of elements (its end came from the server, not from a close or a failure); called just
     * before {@link #onEnd} with no error.
     */
    default void onExhausted() {
    }

    /** The stream ended: completed, closed early, or failed ({@code error} non-null). Called at most once. */
    void onEnd(Throwable error);
}
