package dev.tokenguard.instrumentation;

/** One instrumented SDK method, as the advice's site name identifies it. */
public interface CallSite {

    /**
     * Starts governing a call.
     *
     * @return a {@link GovernedCall}, the {@code BudgetExhaustedException} refusing the call, or null
     *         when the call is not governed
     */
    Object enter(Object target, Object request);
}
