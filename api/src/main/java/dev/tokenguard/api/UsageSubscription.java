package dev.tokenguard.api;

/**
 * A listener's registration, as {@link TokenGuard#onUsage} returns it. Closing it stops delivery to the listener; it
 * may be closed more than once, and never throws.
 */
public final class UsageSubscription implements AutoCloseable {
    private volatile Runnable cancel;

    UsageSubscription(Runnable cancel) {
        this.cancel = cancel;
    }

    /** Whether the listener is still registered with a running agent. */
    public boolean isActive() {
        return cancel != null;
    }

    @Override
    public void close() {
        Runnable c;
        synchronized (this) {
            c = cancel;
            cancel = null;
        }
        if (c != null) {
            try {
                c.run();
            } catch (RuntimeException e) {
                // the agent reports its own failures; closing never fails the application
            }
        }
    }
}
