package dev.tokenguard.core;

/**
 * The error type of a call that was still in flight when the JVM shut down ({@code System.exit} while a stream was
 * being read, a shutdown in the middle of a call): it is logged with what was known of it, its usage an estimate.
 */
public final class InFlightAtShutdown extends Exception {
    InFlightAtShutdown() {
        super("the JVM shut down while the call was in flight", null, false, false);
    }
}
