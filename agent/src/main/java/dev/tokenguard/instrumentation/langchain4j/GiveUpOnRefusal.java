package dev.tokenguard.instrumentation.langchain4j;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.bootstrap.RefusalInFlight;

import java.util.concurrent.Callable;

/**
 * The action of a retry loop, with a refusal turned into a {@link RefusalInFlight}: an {@code Error},
 * which a loop that retries {@code Exception}s lets through at once. The method running the loop then
 * ends with the refusal itself. A refusal that a client wrapped on its way up (in a
 * {@code RuntimeException}) is found in the cause chain and carried the same way.
 */
final class GiveUpOnRefusal<T> implements Callable<T> {
    private final Callable<T> action;

    GiveUpOnRefusal(Callable<T> action) {
        this.action = action;
    }

    @Override
    public T call() throws Exception {
        try {
            return action.call();
        } catch (Exception e) {
            BudgetExhaustedException refusal = refusalIn(e);
            if (refusal != null) {
                throw new RefusalInFlight(refusal);
            }
            throw e;
        }
    }

    /** The refusal {@code e} is or wraps, or null. */
    static BudgetExhaustedException refusalIn(Throwable e) {
        Throwable t = e;
        for (int depth = 0; t != null && depth < 16; depth++) {
            if (t instanceof BudgetExhaustedException refusal) {
                return refusal;
            }
            t = t.getCause();
        }
        return null;
    }
}
