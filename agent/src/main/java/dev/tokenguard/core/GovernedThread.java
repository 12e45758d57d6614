package dev.tokenguard.core;

/**
 * Which threads are inside a governed call of an SDK-layer or framework-layer plugin right now.
 * A lower layer (the raw-HTTP fallback) that sees a request on such a thread leaves it alone: the
 * upper layer already governs that physical request. Nested calls count, so a framework hook
 * around an SDK hook keeps the thread marked until the outer call returns.
 */
public final class GovernedThread {
    private static final ThreadLocal<int[]> DEPTH = new ThreadLocal<>() {
        @Override
        protected int[] initialValue() {
            return new int[1];
        }
    };

    private GovernedThread() {
    }

    /** A governed call starts on this thread. */
    public static void enter() {
        DEPTH.get()[0]++;
    }

    /** The governed call that started on this thread returned or threw. */
    public static void exit() {
        int[] depth = DEPTH.get();
        if (depth[0] > 0) {
            depth[0]--;
        }
    }

    /** Whether a governed call is in progress on this thread. */
    public static boolean active() {
        return DEPTH.get()[0] > 0;
    }
}
