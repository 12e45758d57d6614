package dev.tokenguard.bootstrap;

import dev.tokenguard.api.BudgetExhaustedException;

/**
 * The one class that inlined advice refers to. It lives on the bootstrap class path, so every
 * class loader sees it; the agent installs the {@link CallHooks} that do the work.
 */
public final class TokenGuardBridge {
    private static volatile CallHooks hooks;

    private TokenGuardBridge() {
    }

    /** Installs the hooks; the first installation wins. Returns whether this call installed them. */
    public static synchronized boolean install(CallHooks newHooks) {
        if (hooks != null) {
            return false;
        }
        hooks = newHooks;
        return true;
    }

    /** Whether hooks are installed (a second agent installation checks this). */
    public static boolean installed() {
        return hooks != null;
    }

    public static Object enter(String site, Object target, Object request) {
        CallHooks h = hooks;
        return h == null ? null : h.enter(site, target, request);
    }

    public static Object request(Object call, Object request) {
        CallHooks h = hooks;
        return h == null || call == null || call instanceof Throwable ? request : h.request(call, request);
    }

    public static Object argument(Object call, int index, Object value) {
        CallHooks h = hooks;
        return h == null || call == null || call instanceof Throwable ? value : h.argument(call, index, value);
    }

    public static Object exit(Object call, Object returned, Throwable thrown) {
        CallHooks h = hooks;
        return h == null || call == null || call instanceof Throwable ? returned : h.exit(call, returned, thrown);
    }

    /**
     * The exception the instrumented method ends with: the refusal when the call was refused, the
     * refusal a {@link RefusalInFlight} carried out of a retry loop inside the method, or what the
     * governed call makes of {@code thrown} ({@link CallHooks#thrown}).
     */
    public static Throwable thrown(Object call, Throwable thrown) {
        if (call instanceof BudgetExhaustedException refusal) {
            return refusal;
        }
        if (thrown instanceof RefusalInFlight carried) {
            return carried.refusal();
        }
        CallHooks h = hooks;
        return h == null || call == null || thrown == null ? thrown : h.thrown(call, thrown);
    }
}
