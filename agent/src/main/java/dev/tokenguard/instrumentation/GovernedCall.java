package dev.tokenguard.instrumentation;

/** One call an instrumentation governs, between the advice's enter and exit. */
public interface GovernedCall {

    /** The request to send instead of {@code request} (the same object when nothing changes). */
    Object request(Object request);

    /**
     * The argument at {@code index} (from 1; the request is argument 0) to pass instead of {@code value},
     * for hooks whose advice lets a later argument be replaced (e.g. a response handler to observe).
     */
    default Object argument(int index, Object value) {
        return value;
    }

    /**
     * Whether this call owns the physical requests made inside it on its thread, so that the layers
     * below (the raw-HTTP fallback) stay out of them. A call that only shapes a framework's own control
     * flow, such as its retry loop, owns none: the layer below governs each request as usual.
     */
    default boolean ownsRequests() {
        return true;
    }

    /** The SDK method returned {@code returned} or threw {@code thrown}; returns what the app gets. */
    Object exit(Object returned, Throwable thrown);

    /**
     * The exception the app gets when the SDK method threw {@code thrown} (after {@link #exit}): the same, unless
     * the SDK wrapped a refusal from a request made inside the method, which the app then gets as itself.
     */
    default Throwable thrown(Throwable thrown) {
        return thrown;
    }
}
