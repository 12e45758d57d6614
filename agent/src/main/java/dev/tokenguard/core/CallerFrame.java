package dev.tokenguard.core;

/**
 * Where in the application an LLM call was made: the first application frame below the SDK, framework
 * and agent frames, e.g. {@code com.acme.tickets.Summarizer.summarize:88}. Captured on the calling thread
 * when the call is admitted ({@link CallerFrames#find()}), which gives the same instance for every call made
 * from the same method and line; its text is built once, the first time something asks for it (a session-log
 * line, a span, a JFR event).
 */
public final class CallerFrame {
    private final String className;
    private final String methodName;
    private final String fileName;
    private final int line;
    private volatile String text;

    private CallerFrame(String className, String methodName, String fileName, int line) {
        this.className = className;
        this.methodName = methodName;
        this.fileName = fileName;
        this.line = line;
    }

    /** A frame given by its parts. */
    public static CallerFrame of(String className, String methodName, String fileName, int line) {
        return new CallerFrame(className, methodName, fileName, line);
    }

    /** The fully qualified class name, e.g. {@code com.acme.tickets.Summarizer}. */
    public String className() {
        return className;
    }

    /** The method name, e.g. {@code summarize}. */
    public String methodName() {
        return methodName;
    }

    /** The source line, or a negative number when the class has no line table. */
    public int line() {
        return line;
    }

    /** The source file name, e.g. {@code Summarizer.java}, or null when unknown. */
    public String fileName() {
        return fileName;
    }

    /** {@code class.method}, e.g. {@code com.acme.tickets.Summarizer.summarize}. */
    public String function() {
        return className() + "." + methodName();
    }

    /**
     * {@code class.method:line}, the {@code call_site} value (without {@code :line} when the class has no
     * line numbers).
     */
    @Override
    public String toString() {
        String t = text;
        if (t == null) {
            int n = line();
            t = n >= 0 ? className() + "." + methodName() + ":" + n : function(); // one concatenation, one string
            text = t;
        }
        return t;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof CallerFrame f && f.toString().equals(toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }
}
