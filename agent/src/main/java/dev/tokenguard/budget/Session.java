package dev.tokenguard.budget;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * One session: one scope instance of the default budget's scope (one thread, one MDC value, one
 * window of the global scope). The session log writes one file per session; every line carries
 * the session's id and the next value of its sequence.
 */
public final class Session {
    private final String id;
    private final String scopeKey;
    private final String threadName;
    private final AtomicLong seq = new AtomicLong();
    private final AtomicLong inputTokens = new AtomicLong();
    private final AtomicLong outputTokens = new AtomicLong();
    private final DoubleAdder costUsd = new DoubleAdder();
    private volatile boolean priced;
    /** Derived from the id; set racily by the session log (every writer stores the same value). */
    private String logFileName;
    /** Bit t: the default budget's warning threshold t was written to this session's log. */
    private volatile long warningsLogged;
    private static final java.lang.invoke.VarHandle WARNINGS_LOGGED;

    static {
        try {
            WARNINGS_LOGGED = java.lang.invoke.MethodHandles.lookup().findVarHandle(Session.class, "warningsLogged",
                    long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * @param id         unique within the process and across restarts (not yet sanitized for a file name)
     * @param scopeKey   the scope instance, e.g. {@code thread:worker-3#41}
     * @param threadName the name of the thread that started the session
     */
    public Session(String id, String scopeKey, String threadName) {
        this.id = id;
        this.scopeKey = scopeKey;
        this.threadName = threadName;
    }

    public String id() {
        return id;
    }

    public String scopeKey() {
        return scopeKey;
    }

    public String threadName() {
        return threadName;
    }

    /** The name of this session's log file, once the session log has derived it from the id; null before. */
    public String logFileName() {
        return logFileName;
    }

    /**
     * Remembers the name of this session's log file (a function of the id, so a racing second derivation stores the
     * same name): the session log writes a line per call and would otherwise derive it, a hash included, each time.
     */
    public void logFileName(String name) {
        this.logFileName = name;
    }

    /** The next line number of this session's log: 1, 2, 3... */
    public long nextSeq() {
        return seq.incrementAndGet();
    }

    /** Adds a call's usage to the session's totals (reported by {@code session_end}). */
    public void add(long input, long output, Double cost) {
        inputTokens.addAndGet(input);
        outputTokens.addAndGet(output);
        if (cost != null) {
            costUsd.add(cost);
            if (!priced) {
                priced = true; // a volatile write costs a fence: only the first priced charge pays it
            }
        }
    }

    public long inputTokens() {
        return inputTokens.get();
    }

    public long outputTokens() {
        return outputTokens.get();
    }

    /** Total cost of the session's priced calls, or null when no call was priced. */
    public Double costUsd() {
        return priced ? costUsd.sum() : null;
    }

    /** Whether the warnings of every threshold below {@code index} (of the default budget) are logged. */
    public boolean lowerWarningsLogged(int index) {
        long mask = index >= 64 ? -1L : (1L << index) - 1;
        return (warningsLogged & mask) == mask;
    }

    /** The warning of the default budget's threshold {@code index} is logged. */
    public void warningLogged(int index) {
        long bit = 1L << index;
        for (;;) {
            long v = warningsLogged;
            if ((v & bit) != 0 || WARNINGS_LOGGED.compareAndSet(this, v, v | bit)) {
                return;
            }
        }
    }

    @Override
    public String toString() {
        return "Session[" + id + "]";
    }
}
