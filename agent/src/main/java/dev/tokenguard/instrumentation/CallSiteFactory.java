package dev.tokenguard.instrumentation;

import dev.tokenguard.core.Governor;

/** Makes the call site behind one instrumented method of a {@link Hook}. */
@FunctionalInterface
public interface CallSiteFactory {

    /** The call site of {@code method}, feeding {@code governor}. */
    CallSite create(String method, Governor governor);
}
