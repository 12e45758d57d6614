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
    /** {@link #lastCall} of an instance released because it was idle: no call may use it any more. */
    static final long RETIRED = Long.MIN_VALUE;
    private static final java.lang.invoke.VarHandle LAST_CALL;

    static {
        try {
            LAST_CALL = java.lang.invoke.MethodHandles.lookup().findVarHandle(ScopeInstance.class, "lastCall",
                    long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final String key;
    final BudgetLimits limits;
    /** The thread's scope this instance is a slot of; null for a {@code global} or MDC value instance. */
    final ThreadScope thread;
    private volatile UsageWindow current;
    private volatile boolean released;
    /** Reservations of the calls in flight; created on the first reservation. */
    private volatile InFlight inFlight;
    /**
     * When a call last used this instance (epoch ms), or {@link #RETIRED}. A call claims the instance by moving it
     * forward, the idle sweep by swapping it for {@link #RETIRED}: one compare-and-set decides which came first.
     */
    private volatile long lastCall;

    ScopeInstance(String key, BudgetLimits limits, long windowIndex) {
        this(key, limits, windowIndex, null);
    }

    ScopeInstance(String key, BudgetLimits limits, long windowIndex, ThreadScope thread) {
        this.key = key;
        this.limits = limits;
        this.thread = thread;
        this.current = newWindow(windowIndex);
    }

    UsageWindow current() {
        return current;
    }

    boolean isReleased() {
        return released;
    }

    /**
     * Marks a call at {@code now}; false when the instance was released as idle (the caller then looks its key up
     * again). Writes only when the time moved on, so calls within one millisecond share one write.
     */
    boolean touch(long now) {
        for (;;) {
            long t = lastCall;
            if (t == RETIRED) {
                return false;
            }
            if (t >= now || LAST_CALL.compareAndSet(this, t, now)) {
                return true;
            }
        }
    }

    long lastCall() {
        return lastCall;
    }

    boolean isRetired() {
        return lastCall == RETIRED;
    }

    /** Claims this instance for the idle sweep when no call marked it after {@code cutoff}; true when claimed. */
    boolean retireIfIdleSince(long cutoff) {
        long t = lastCall;
        return t != RETIRED && t <= cutoff && LAST_CALL.compareAndSet(this, t, RETIRED);
    }

    /**
     * Releases an instance the idle sweep claimed ({@link #retireIfIdleSince}): closes its window, waiting for the
     * charges adding to it, and returns what it used there ({@link KeptUsage}), or null when it used nothing. Its session is ended
     * by {@link #endIdleSession} once the instance is out of the engine's registry.
     */
    synchronized long[] releaseIdle() {
        released = true;
        UsageWindow w = current;
        w.closeAndDrain();
        return KeptUsage.of(w);
    }

    synchronized void endIdleSession(SessionListener listener) {
        UsageWindow w = current;
        if (w.session != null && w.started) {
            listener.sessionEnded(w.session, SessionListener.IDLE);
        }
    }

    /** Puts usage kept from an earlier instance of the same key into this new one's first window. */
    void restore(long[] kept) {
        KeptUsage.addTo(kept, current);
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
        Session session = null;
        if (limits.opensSessions) {
            Thread owner = thread == null ? null : thread.get();
            Thread named = owner != null ? owner : Thread.currentThread();
            session = new Session(SessionIds.next(key), key, named.getName());
        }
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
