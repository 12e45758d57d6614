package dev.tokenguard.instrumentation;

import dev.tokenguard.core.Governor;

/**
 * Makes the call site behind one instrumented method of a {@link Hook}. The plugins implement it with classes of
 * their own, not lambdas: the declarations are made at start-up, where each lambda would have its class spun at
 * run time.
 */
@FunctionalInterface
public interface CallSiteFactory {

    /** The call site of {@code method}, feeding {@code governor}. */
    CallSite create(String method, Governor governor);
}
