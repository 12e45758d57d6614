package dev.tokenguard.budget;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;

/**
 * The tokens (and cost) one admitted call holds in the scope instances of its enforcing budgets until it ends:
 * replaced by the real usage when it is charged ({@link BudgetEngine#charge(CallScope, Reservation, long, long,
 * Double)}), or given back when the call fails or is abandoned ({@link BudgetEngine#release(Reservation)}). Given back
 * exactly once, whichever comes first.
 */
public final class Reservation {
    final ScopeInstance[] instances;
    final Estimate estimate;
    final long reservedAtMillis;
    /** Whether the call was admitted after the wait ran out, or on a thread that may not wait. */
    final boolean forced;
    private volatile WeakReference<Object> owner;
    /** Closed exactly once ({@link #close()}): a field and a handle, no atomic object per call. */
    private volatile boolean closed;
    private static final VarHandle CLOSED;

    static {
        try {
            CLOSED = MethodHandles.lookup().findVarHandle(Reservation.class, "closed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    Reservation(ScopeInstance[] instances, Estimate estimate, long reservedAtMillis, boolean forced) {
        this.instances = instances;
        this.estimate = estimate;
        this.reservedAtMillis = reservedAtMillis;
        this.forced = forced;
    }

    /**
     * Ties the reservation to an object that lives exactly as long as the call (the call record that a response or
     * a stream holds): once it is collected before the call settled, the call was abandoned (a stream dropped
     * without being closed) and {@link BudgetEngine#releaseAbandoned} releases the reservation. Held weakly.
     */
    public void ownedBy(Object owner) {
        this.owner = owner == null ? null : new WeakReference<>(owner);
    }

    /**
     * As {@link #ownedBy(Object)}, with a weak reference to the owner the caller already holds (no second one per
     * call). The reference must not be cleared while the owner lives: a cleared one reads as an owner collected.
     */
    public void ownedByReferent(WeakReference<?> owner) {
        @SuppressWarnings("unchecked")
        WeakReference<Object> o = (WeakReference<Object>) owner;
        this.owner = o;
    }

    /** What the call reserved. */
    public Estimate estimate() {
        return estimate;
    }

    /** When the call reserved, epoch ms of the engine's clock. */
    public long reservedAtMillis() {
        return reservedAtMillis;
    }

    /** Whether the call was admitted without waiting for room (the wait ran out, or its thread may not wait). */
    public boolean forced() {
        return forced;
    }

    /** Whether it still holds its amounts. */
    public boolean isOpen() {
        return !closed;
    }

    /** True for the one caller that closes it. */
    boolean close() {
        return CLOSED.compareAndSet(this, false, true);
    }

    /** The object whose life is the call's (e.g. the call record a stream holds) was collected. */
    boolean ownerGone() {
        WeakReference<Object> o = owner;
        return o != null && o.get() == null;
    }

    @Override
    public String toString() {
        return "Reservation[" + estimate + ", at " + reservedAtMillis + (closed ? ", settled" : ", open") + "]";
    }
}
