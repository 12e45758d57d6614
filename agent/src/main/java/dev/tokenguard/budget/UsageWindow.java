package dev.tokenguard.budget;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * The usage of one scope instance in one window (the whole life of the instance when its budget has
 * no window). A new window replaces the old one at a boundary; counters are never reset in place.
 *
 * <p>A gate makes the replacement exact: every charge registers itself in the gate before adding and
 * leaves it afterwards; closing the gate waits for the charges in flight, so that a closed window
 * (and its session's totals) never changes again. The gate is one long: bit 63 closed, bit 62
 * pending (the session is not started yet), the rest the number of charges in flight.
 */
final class UsageWindow {
    static final long CLOSED = Long.MIN_VALUE;
    static final long PENDING = 1L << 62;
    private static final long COUNT = PENDING - 1;

    static final int ENTERED = 0;
    static final int IS_PENDING = 1;
    static final int IS_CLOSED = 2;

    private static final VarHandle GATE;
    private static final VarHandle REPORTED;
    private static final VarHandle[] USAGE = new VarHandle[BudgetLimits.DIMENSIONS];
    private static final VarHandle TOTAL;
    private static final VarHandle INPUT;
    private static final VarHandle OUTPUT;
    private static final VarHandle COST;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            GATE = l.findVarHandle(UsageWindow.class, "gate", long.class);
            REPORTED = l.findVarHandle(UsageWindow.class, "reported", long.class);
            USAGE[BudgetLimits.TOTAL] = l.findVarHandle(UsageWindow.class, "total", long.class);
            USAGE[BudgetLimits.INPUT] = l.findVarHandle(UsageWindow.class, "input", long.class);
            USAGE[BudgetLimits.OUTPUT] = l.findVarHandle(UsageWindow.class, "output", long.class);
            USAGE[BudgetLimits.COST] = l.findVarHandle(UsageWindow.class, "costNanoUsd", long.class);
            TOTAL = USAGE[BudgetLimits.TOTAL];
            INPUT = USAGE[BudgetLimits.INPUT];
            OUTPUT = USAGE[BudgetLimits.OUTPUT];
            COST = USAGE[BudgetLimits.COST];
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final long index;
    /** The session this window is, for the default budget; null for other budgets. */
    final Session session;
    /** Written under the scope instance's lock only. */
    boolean started;

    private volatile long gate;
    private volatile long reported;
    private volatile long total;
    private volatile long input;
    private volatile long output;
    private volatile long costNanoUsd;

    UsageWindow(long index, Session session) {
        this.index = index;
        this.session = session;
        this.gate = session == null ? 0 : PENDING;
    }

    /** Registers one charge in flight: {@link #ENTERED}, or why not. */
    int tryEnter() {
        for (;;) {
            long g = gate;
            if (g < 0) {
                return IS_CLOSED;
            }
            if ((g & PENDING) != 0) {
                return IS_PENDING;
            }
            if (GATE.compareAndSet(this, g, g + 1)) {
                return ENTERED;
            }
        }
    }

    void leave() {
        GATE.getAndAdd(this, -1L);
    }

    boolean isPending() {
        long g = gate;
        return g >= 0 && (g & PENDING) != 0;
    }

    boolean isClosed() {
        return gate < 0;
    }

    /** Opens a pending window (under the instance's lock). */
    void open() {
        for (;;) {
            long g = gate;
            if ((g & PENDING) == 0 || GATE.compareAndSet(this, g, g & ~PENDING)) {
                return;
            }
        }
    }

    /** Closes the gate and waits for the charges in flight (under the instance's lock). */
    void closeAndDrain() {
        for (;;) {
            long g = gate;
            if (g < 0 || GATE.compareAndSet(this, g, g | CLOSED)) {
                break;
            }
        }
        int spins = 0;
        while ((gate & COUNT) != 0) {
            if (++spins < 100) {
                Thread.onSpinWait();
            } else if (spins < 1000) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(50_000);
            }
        }
    }

    /**
     * Adds to one dimension; returns the usage before. A switch over the fields rather than {@code USAGE[dimension]}:
     * a VarHandle read from an array is not a constant to the JIT, and its calls are then not inlined.
     */
    long add(int dimension, long amount) {
        return switch (dimension) {
            case BudgetLimits.TOTAL -> (long) TOTAL.getAndAdd(this, amount);
            case BudgetLimits.INPUT -> (long) INPUT.getAndAdd(this, amount);
            case BudgetLimits.OUTPUT -> (long) OUTPUT.getAndAdd(this, amount);
            default -> (long) COST.getAndAdd(this, amount);
        };
    }

    long used(int dimension) {
        return switch (dimension) {
            case BudgetLimits.TOTAL -> total;
            case BudgetLimits.INPUT -> input;
            case BudgetLimits.OUTPUT -> output;
            default -> costNanoUsd;
        };
    }

    long reportedBits() {
        return reported;
    }

    /** Marks every threshold whose bit is set in {@code bits} reported (usage kept from an earlier instance). */
    void markReportedBits(long bits) {
        for (;;) {
            long r = reported;
            if ((r | bits) == r || REPORTED.compareAndSet(this, r, r | bits)) {
                return;
            }
        }
    }

    /** Marks threshold {@code t} reported; true for the one caller that marked it first. */
    boolean markReported(int t) {
        long bit = 1L << t;
        for (;;) {
            long r = reported;
            if ((r & bit) != 0) {
                return false;
            }
            if (REPORTED.compareAndSet(this, r, r | bit)) {
                return true;
            }
        }
    }

    /** Sets every counter of this window back to 0 and forgets the thresholds reported (a live reset). */
    void reset() {
        for (VarHandle usage : USAGE) {
            usage.getAndSet(this, 0L);
        }
        REPORTED.setVolatile(this, 0L);
    }
}
