package dev.tokenguard.sample.scenarios;

import java.io.PrintStream;
import java.util.concurrent.CompletionException;

/**
 * Runs a scenario's calls until one is refused, then a few more (each must be refused too), printing
 * {@code OK <result>} or {@code REFUSED <class> <message> loader=<loader>} per call. The refusal is
 * recognised by its class's simple name only, as an app that does not depend on TokenGuard would.
 */
public final class ScenarioRunner {
    /** How many calls are tried after the first refusal. */
    public static final int EXTRA_TRIES_AFTER_REFUSAL = 2;

    /** One call of a scenario; returns what the app saw. */
    public interface Call {
        String run(int index) throws Exception;
    }

    private final PrintStream out;

    public ScenarioRunner(PrintStream out) {
        this.out = out;
    }

    public void repeat(int calls, Call call) throws Exception {
        int refusedAt = -1;
        for (int i = 0; i < calls; i++) {
            if (refusedAt >= 0 && i > refusedAt + EXTRA_TRIES_AFTER_REFUSAL) {
                break;
            }
            try {
                out.println("OK " + call.run(i));
            } catch (RuntimeException e) {
                Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                if (!t.getClass().getSimpleName().equals("BudgetExhaustedException")) {
                    throw e;
                }
                out.println("REFUSED " + t.getClass().getName() + " " + t.getMessage() + " loader="
                        + t.getClass().getClassLoader());
                if (refusedAt < 0) {
                    refusedAt = i;
                }
            }
        }
    }
}
