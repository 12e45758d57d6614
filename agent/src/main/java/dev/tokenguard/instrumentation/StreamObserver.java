package dev.tokenguard.instrumentation;

/** Watches the elements of a streamed response on their way to the app. */
public interface StreamObserver {

    /** An element arrived; returns whether the app sees it (false hides an element the agent asked for). */
    boolean onElement(Object element);

    /** The stream ended: completed, closed early, or failed ({@code error} non-null). Called at most once. */
    void onEnd(Throwable error);
}
