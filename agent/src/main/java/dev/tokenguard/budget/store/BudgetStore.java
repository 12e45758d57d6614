package dev.tokenguard.budget.store;

import java.io.IOException;
import java.util.List;

/**
 * A store that holds budgets shared by several JVMs: usage, reservations of calls in flight and the thresholds
 * already warned, per budget, scope instance and window. Every operation is atomic on the store's side. The
 * in-memory default needs no store: the {@link dev.tokenguard.budget.BudgetEngine} alone counts then.
 */
interface BudgetStore extends AutoCloseable {
    /** Dimensions, in the engine's order: total, input, output tokens, cost in nano-USD. */
    int DIMENSIONS = 4;
    long NO_LIMIT = -1;

    /**
     * One shared budget of a call.
     *
     * @param key        the store key of the budget's scope instance and window
     * @param limits     per dimension, the limit or {@link #NO_LIMIT}
     * @param points     [threshold][dimension]: the smallest usage that crosses the threshold, or -1
     * @param ttlMillis  how long the key lives after this use (past the window's end); 0 for ever
     */
    record Entry(String key, long[] limits, long[][] points, long ttlMillis) {
    }

    /**
     * The store's answer to an admission.
     *
     * @param status {@link #ADMITTED}, {@link #EXHAUSTED} (refuse: used >= limit) or {@link #BLOCKED} (calls in
     *               flight elsewhere reserved what is left)
     * @param entry  the entry that refused or blocked, -1 when admitted
     * @param used   per entry, the usage before this call (for a refusal only the refusing entry's)
     */
    record Decision(int status, int entry, int dimension, long[][] used) {
        static final int ADMITTED = 0;
        static final int EXHAUSTED = 1;
        static final int BLOCKED = 2;
    }

    /**
     * What a settlement did, per entry: usage right after it and the thresholds it was the first to cross.
     *
     * @param crossed per entry, pairs (threshold index, dimension) in ascending threshold order
     */
    record Settlement(long[][] used, int[][] crossed) {
    }

    /**
     * Decides on a call and, when admitted, reserves {@code amounts} in every entry under {@code member} until
     * {@code expiresAtMillis}.
     *
     * @param force admit even when reservations in flight cover what is left (the wait ran out)
     */
    Decision admit(List<Entry> entries, long[] amounts, String member, long nowMillis, long expiresAtMillis,
                   boolean force) throws IOException;

    /**
     * Adds {@code usage} to every entry, gives back the reservation {@code member} (when not null and still held) and
     * reports the thresholds this charge crossed, each once per entry however many JVMs charge it.
     */
    Settlement settle(List<Entry> entries, long[] usage, String member) throws IOException;

    /** Gives back a reservation without charging. */
    void release(List<String> keys, String member) throws IOException;

    /** The usage per dimension of each key, as {@link Settlement#used()}: zeros for a key the store does not hold. */
    long[][] read(List<String> keys) throws IOException;

    /** Checks that the store answers. */
    void ping() throws IOException;

    /** Drops every connection. */
    @Override
    void close();
}
