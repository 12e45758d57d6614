package dev.tokenguard.sessionlog;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The restart replay as the agent runs it: {@link WindowReplay} on a daemon thread started with the agent, so that
 * start-up does not wait; the first governed calls wait for {@link #done()} (bounded). When the wait runs out
 * ({@link #giveUp()}), the replay stops, adds what it read so far, and says so in one line; a replay that fails
 * says so in one line too, and the budgets keep what was added.
 */
public final class RestartReplay {
    /** How long the first calls wait for the replay. */
    public static final Duration WAIT = Duration.ofSeconds(10);

    private final CompletableFuture<WindowReplay.Result> done = new CompletableFuture<>();
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final Path dir;
    private final Consumer<String> reporter;
    private volatile long startNanos;

    private RestartReplay(Path dir, Consumer<String> reporter) {
        this.dir = dir;
        this.reporter = reporter;
    }

    /**
     * Starts replaying {@code dir} for the windowed {@code global} / {@code mdc:} budgets among {@code budgets};
     * null when there are none (nothing to wait for).
     */
    public static RestartReplay start(Path dir, String service, List<BudgetSpec> budgets, BudgetEngine engine,
                                      Clock clock, Consumer<String> reporter) {
        long now = clock.millis();
        List<WindowReplay.Target> targets = WindowReplay.targets(budgets, now);
        if (targets.isEmpty()) {
            return null;
        }
        RestartReplay replay = new RestartReplay(dir, reporter);
        Thread t = new Thread(() -> replay.run(service, targets, engine, now), "tokenguard-replay");
        t.setDaemon(true);
        t.start();
        return replay;
    }

    /** Completes when the usage read is in the budgets (or the replay failed). */
    public CompletableFuture<WindowReplay.Result> done() {
        return done;
    }

    /** The wait for the replay ran out: stop reading, keep what was read, say so once. */
    public void giveUp() {
        cancelled.set(true);
        reporter.accept("TokenGuard: the replay of " + dir + " (budgets of the current window, after a restart) did"
                + " not finish within " + WAIT.toSeconds() + " s; calls go on, and the windowed budgets start from"
                + " what was read so far");
    }

    private void run(String service, List<WindowReplay.Target> targets, BudgetEngine engine, long now) {
        startNanos = System.nanoTime();
        try {
            WindowReplay.Result result = WindowReplay.read(dir, service, targets, now, cancelled::get);
            WindowReplay.seed(engine, targets, result);
            if (!result.fileErrors().isEmpty()) {
                reporter.accept("TokenGuard: the replay of " + dir + " could not read " + result.fileErrors().size()
                        + " file(s) (" + result.fileErrors().get(0) + "); the windowed budgets start from the "
                        + result.tokens() + " tokens read");
            }
            done.complete(result);
        } catch (RuntimeException | Error e) {
            reporter.accept("TokenGuard: the replay of " + dir + " (budgets of the current window, after a restart)"
                    + " failed (" + e + "); the windowed budgets start from what was read");
            done.completeExceptionally(e);
        }
    }
}
