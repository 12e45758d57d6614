package dev.tokenguard.budget;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * What the calls in flight of one scope instance have reserved, per dimension, and the calls waiting for them to
 * settle. Created on a scope instance's first reservation; it outlives window boundaries, because a call reserved in
 * one window is charged to whichever window is current when it ends.
 *
 * <p>Reserving is a compare-and-set that admits only while {@code used + reserved < limit}; settling is an atomic
 * subtraction, followed by a wake-up only when some call waits (its monitor is taken only then).
 */
final class InFlight {
    private static final VarHandle[] RESERVED = new VarHandle[BudgetLimits.DIMENSIONS];
    private static final VarHandle WAITERS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            RESERVED[BudgetLimits.TOTAL] = l.findVarHandle(InFlight.class, "total", long.class);
            RESERVED[BudgetLimits.INPUT] = l.findVarHandle(InFlight.class, "input", long.class);
            RESERVED[BudgetLimits.OUTPUT] = l.findVarHandle(InFlight.class, "output", long.class);
            RESERVED[BudgetLimits.COST] = l.findVarHandle(InFlight.class, "costNanoUsd", long.class);
            WAITERS = l.findVarHandle(InFlight.class, "waiters", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private volatile long total;
    private volatile long input;
    private volatile long output;
    private volatile long costNanoUsd;
    private volatile int waiters;

    long reserved(int dimension) {
        return (long) RESERVED[dimension].getVolatile(this);
    }

    /**
     * Adds {@code amount} to the reserved amount of a dimension when {@code used + reserved < limit}
     * (or unconditionally when {@code force}); true when added.
     */
    boolean tryReserve(int dimension, long amount, UsageWindow window, long limit, boolean force) {
        VarHandle h = RESERVED[dimension];
        for (;;) {
            // reserved first, then used: a settling call adds its usage before it gives its reservation back, so a
            // reservation seen already given back is never paired with usage read from before it was added (which
            // would under-count by that call and let this one past the limit)
            long r = (long) h.getVolatile(this);
            long used = window == null ? 0 : window.used(dimension);
            if (!force && used + r >= limit) {
                return false;
            }
            if (h.compareAndSet(this, r, r + amount)) {
                return true;
            }
        }
    }

    void unreserve(int dimension, long amount) {
        RESERVED[dimension].getAndAdd(this, -amount);
    }

    /** Wakes the calls waiting for a settlement, if any. */
    void settled() {
        if ((int) WAITERS.getVolatile(this) > 0) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    /**
     * Waits at most {@code nanos} for a settlement, unless {@code stillBlocked} no longer holds once this call is
     * registered as waiting (so that no settlement between the caller's check and the wait is missed).
     */
    void await(long nanos, java.util.function.BooleanSupplier stillBlocked) throws InterruptedException {
        synchronized (this) {
            WAITERS.getAndAdd(this, 1);
            try {
                if (stillBlocked.getAsBoolean()) {
                    long millis = Math.max(1, nanos / 1_000_000);
                    wait(millis);
                }
            } finally {
                WAITERS.getAndAdd(this, -1);
            }
        }
    }
}
