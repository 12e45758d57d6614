package dev.tokenguard.instrumentation;

/** One call an instrumentation governs, between the advice's enter and exit. */
public interface GovernedCall {

    /** The request to send instead of {@code request} (the same object when nothing changes). */
    Object request(Object request);

    /** The SDK method returned {@code returned} or threw {@code thrown}; returns what the app gets. */
    Object exit(Object returned, Throwable thrown);
}
