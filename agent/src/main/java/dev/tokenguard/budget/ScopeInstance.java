package dev.tokenguard.budget;

/**
 * One scope instance of one budget (one thread, one MDC value, or the global scope): its key and its
 * current {@link UsageWindow}. For the default budget each window is a session.
 *
 * <p>Charges are lock-free (the window's gate and counters). Lifecycle transitions (starting a
 * session, a window boundary, release) are rare and serialized by this object's monitor; a charge
 * meets one only when it finds a window pending or closed.
 */
final class ScopeInstance {
    final String key;
    final BudgetLimits limits;
    private volatile UsageWindow current;
    private volatile boolean released;
    /** Reservations of the calls in flight; created on the first reservation. */
    private volatile InFlight inFlight;

    ScopeInstance(String key, BudgetLimits limits, long windowIndex) {
        this.key = key;
        this.limits = limits;
        this.current = newWindow(windowIndex);
    }

    UsageWindow current() {
        return current;
    }

    boolean isReleased() {
        return released;
    }

    InFlight inFlight() {
        InFlight f = inFlight;
        if (f == null) {
            synchronized (this) {
                f = inFlight;
                if (f == null) {
                    f = new InFlight();
                    inFlight = f;
                }
            }
        }
        return f;
    }

    /** The window of {@code windowIndex} (or a later one), its session started: what {@code enter()} needs. */
    UsageWindow resolve(long windowIndex, SessionListener listener) {
        for (;;) {
            UsageWindow w = current;
            if (w.index < windowIndex && !released) {
                rollOver(windowIndex, listener);
            } else if (w.isPending()) {
                startPending(listener);
            } else {
                return w;
            }
        }
    }

    /**
     * Registers one charge in the window of {@code windowIndex} (or a later one); the caller adds and
     * then calls {@link UsageWindow#leave()}. Returns null when the instance was released: the caller
     * then adds to {@link #current()} without the gate.
     */
    UsageWindow enter(long windowIndex, SessionListener listener) {
        for (;;) {
            UsageWindow w = current;
            if (w.index < windowIndex && !released) {
                rollOver(windowIndex, listener);
                continue;
            }
            int r = w.tryEnter();
            if (r == UsageWindow.ENTERED) {
                return w;
            }
            if (r == UsageWindow.IS_PENDING) {
                startPending(listener);
            } else if (released) {
                return null;
            }
            // closed by a window boundary: current already points to the next window
        }
    }

    private UsageWindow newWindow(long windowIndex) {
        Session session = limits.opensSessions
                ? new Session(SessionIds.next(key), key, Thread.currentThread().getName())
                : null;
        return new UsageWindow(windowIndex, session);
    }

    private synchronized void startPending(SessionListener listener) {
        UsageWindow w = current;
        if (w.isPending()) {
            start(w, listener);
        }
    }

    private static void start(UsageWindow w, SessionListener listener) {
        w.started = true;
        try {
            listener.sessionStarted(w.session);
        } finally {
            w.open();
        }
    }

    private synchronized void rollOver(long windowIndex, SessionListener listener) {
        UsageWindow old = current;
        if (released || old.index >= windowIndex) {
            return;
        }
        UsageWindow next = newWindow(windowIndex);
        current = next;
        old.closeAndDrain();
        try {
            if (old.session != null && old.started) {
                listener.sessionEnded(old.session, SessionListener.WINDOW_RESET);
            }
        } finally {
            if (next.isPending()) {
                start(next, listener);
            }
        }
    }

    /**
     * Releases this instance: no window follows the current one, and its session (if started) ends
     * with {@code reason}. Returns false when it was already released.
     */
    synchronized boolean release(String reason, SessionListener listener) {
        if (released) {
            return false;
        }
        released = true;
        UsageWindow w = current;
        w.closeAndDrain();
        if (w.session != null && w.started) {
            listener.sessionEnded(w.session, reason);
        }
        return true;
    }
}
