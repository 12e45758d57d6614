package dev.tokenguard.jfr;

/** Whether Flight Recorder was started in this JVM; touches no event class. */
final class FlightRecorderState {
    private FlightRecorderState() {
    }

    /** A static field read once {@code jdk.jfr.FlightRecorder} is loaded (at the first call). */
    static boolean initialized() {
        return jdk.jfr.FlightRecorder.isInitialized();
    }
}
