package dev.tokenguard.bootstrap;

/**
 * What the inlined advice calls through {@link TokenGuardBridge}. Only JDK types cross this
 * interface, so the advice can live in any class loader while the implementation lives in the
 * agent's.
 */
public interface CallHooks {

    /**
     * Called before an instrumented SDK method runs.
     *
     * @param site    the instrumented method, {@code declaring type.method name}
     * @param target  the SDK object whose method is called
     * @param request the method's request argument
     * @return a call handle for {@link #exit}, a {@code BudgetExhaustedException} to refuse the call,
     *         or null when the call is not governed
     */
    Object enter(String site, Object target, Object request);

    /** The request to send instead of {@code request} (the same object when nothing changes). */
    Object request(Object call, Object request);

    /** The argument at {@code index} to pass instead of {@code value} (the same object when nothing changes). */
    Object argument(Object call, int index, Object value);

    /** Called when the SDK method returns or throws; returns the value to hand to the caller. */
    Object exit(Object call, Object returned, Throwable thrown);

    /**
     * The exception the SDK method ends with instead of {@code thrown}, e.g. the refusal that an SDK wrapped in its
     * own exception type on its way up from a request made inside the method.
     */
    default Throwable thrown(Object call, Throwable thrown) {
        return thrown;
    }
}
