package dev.tokenguard.core;

/**
 * Lets a test make the agent fail on purpose at a named point of the call path, to prove that an
 * internal failure is reported once and the application's call proceeds. Set with the system
 * property {@code tokenguard.internal.fault=<point>} (points: {@code enter}, {@code finish},
 * {@code stream}); read once, so that with the property unset the check is a constant null test.
 */
public final class InjectedFault {
    /** The system property naming the point to fail at. */
    public static final String PROPERTY = "tokenguard.internal.fault";
    private static final String POINT = System.getProperty(PROPERTY);

    private InjectedFault() {
    }

    /** Throws when the property names {@code point}. */
    public static void at(String point) {
        if (POINT != null && POINT.equals(point)) {
            throw new IllegalStateException("fault injected at " + point + " (" + PROPERTY + ")");
        }
    }
}
