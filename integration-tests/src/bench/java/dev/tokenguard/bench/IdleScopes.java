package dev.tokenguard.bench;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.CallScope;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.SessionListener;
import dev.tokenguard.sessionlog.SessionLogWriter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Retained heap per idle budget scope, run in a JVM of its own with the agent jar on the class path
 * (no -javaagent: the budget engine is driven directly). An idle scope is one that made one call
 * (its session started, one charge) and then nothing more while it stays alive. Both kinds are measured
 * after the engine's idle sweep ({@code BudgetEngine.releaseIdle}, which the agent's reaper runs every second)
 * released them: the clock is moved past {@link #IDLE_RELEASE} first; what stays is the usage kept per MDC value or
 * parked thread.
 *
 * <p>Arguments: {@code <mdc scopes> <mdc scopes with the session log> <threads> <log dir>}. Prints
 * {@code RESULT <key> <bytes per scope>} for {@code mdc_scope_bytes} (engine only),
 * {@code mdc_scope_logged_bytes} (engine and the JSONL session log, as the agent runs them) and
 * {@code thread_scope_bytes} (parked threads, each of which made one call and was then released as idle, minus the
 * same threads before the call).
 */
public final class IdleScopes {
    private static final Double COST = 0.0001;
    /** The default of {@code tokenguard.budget.idle-release}. */
    static final Duration IDLE_RELEASE = Duration.ofMinutes(15);

    private IdleScopes() {
    }

    public static void main(String[] args) throws Exception {
        int mdcScopes = Integer.parseInt(args[0]);
        int loggedScopes = Integer.parseInt(args[1]);
        int threads = Integer.parseInt(args[2]);
        Path logDir = Files.createDirectories(Path.of(args[3]));

        System.out.println("RESULT mdc_scope_bytes "
                + mdcBytesPerScope(mdcScopes, SessionListener.NONE, new MovableClock()));
        MovableClock clock = new MovableClock();
        try (SessionLogWriter log = new SessionLogWriter(logDir, "bench", ProcessHandle.current().pid(),
                clock, System.err::println)) {
            System.out.println("RESULT mdc_scope_logged_bytes "
                    + mdcBytesPerScope(loggedScopes, log.sessionListener(), clock));
        }
        System.out.println("RESULT thread_scope_bytes " + threadBytesPerScope(threads));
    }

    static BudgetEngine engine(ScopeSpec scope, ThreadLocal<String> mdc, SessionListener listener) {
        return engine(scope, mdc, listener, Clock.systemUTC());
    }

    static BudgetEngine engine(ScopeSpec scope, ThreadLocal<String> mdc, SessionListener listener, Clock clock) {
        BudgetSpec spec = new BudgetSpec(BudgetSpec.DEFAULT_NAME, scope, 1_000_000_000_000L, null, null, null, null,
                new double[] {0.75, 0.90, 0.95}, EnforcementMode.ENFORCE);
        return new BudgetEngine(List.of(spec), clock, key -> mdc.get(), listener);
    }

    /**
     * Each scope: an MDC value (a tenant id as the app would set it), one enter + check + charge; then the clock
     * moves past the idle-release time and the idle sweep runs.
     */
    static double mdcBytesPerScope(int count, SessionListener listener, MovableClock clock)
            throws InterruptedException {
        ThreadLocal<String> mdc = new ThreadLocal<>();
        BudgetEngine engine = engine(ScopeSpec.mdc("tenant"), mdc, listener, clock);
        oneCall(engine); // the engine's own first-use costs are not per scope
        mdc.set("tenant-warm");
        oneCall(engine);
        mdc.remove();
        clock.advance(IDLE_RELEASE);
        engine.releaseIdle(IDLE_RELEASE.toMillis()); // and the kept usage's first-use costs
        long before = CallLoad.usedHeapAfterGc();
        for (int i = 0; i < count; i++) {
            mdc.set("tenant-" + i);
            oneCall(engine);
        }
        mdc.remove();
        clock.advance(IDLE_RELEASE);
        int released = engine.releaseIdle(IDLE_RELEASE.toMillis());
        long after = CallLoad.usedHeapAfterGc();
        // kept: the warm-up value too, and the warm-up call's thread scope (no MDC value), released by the first sweep
        if (released != count || engine.keptScopes() != count + 2 || engine.liveScopes() != 0) {
            throw new IllegalStateException("expected " + count + " scopes released and kept; released "
                    + released + ", kept " + engine.keptScopes() + ", live " + engine.liveScopes());
        }
        double perScope = (double) (after - before) / count;
        engine.close();
        return perScope;
    }

    static double threadBytesPerScope(int count) throws InterruptedException {
        MovableClock clock = new MovableClock();
        BudgetEngine engine = engine(ScopeSpec.THREAD, new ThreadLocal<>(), SessionListener.NONE, clock);
        oneCall(engine); // the engine's own first-use costs are not per scope
        clock.advance(IDLE_RELEASE);
        engine.releaseIdle(IDLE_RELEASE.toMillis()); // and the kept usage's first-use costs
        CountDownLatch started = new CountDownLatch(count);
        CountDownLatch call = new CountDownLatch(1);
        CountDownLatch called = new CountDownLatch(count);
        CountDownLatch end = new CountDownLatch(1);
        List<Thread> all = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Thread t = new Thread(() -> {
                try {
                    started.countDown();
                    call.await();
                    oneCall(engine);
                    called.countDown();
                    end.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "idle-" + i);
            t.setDaemon(true);
            t.start();
            all.add(t);
        }
        started.await();
        long before = CallLoad.usedHeapAfterGc();
        call.countDown();
        called.await();
        clock.advance(IDLE_RELEASE);
        int released = engine.releaseIdle(IDLE_RELEASE.toMillis());
        long after = CallLoad.usedHeapAfterGc();
        // kept: the warm-up call's thread too
        if (released != count || engine.keptScopes() != count + 1 || engine.liveScopes() != 0) {
            throw new IllegalStateException("expected " + count + " parked threads released and kept; released "
                    + released + ", kept " + engine.keptScopes() + ", live " + engine.liveScopes());
        }
        double perScope = (double) (after - before) / count;
        end.countDown();
        for (Thread t : all) {
            t.join();
        }
        engine.close();
        return perScope;
    }

    private static void oneCall(BudgetEngine engine) {
        CallScope scope = engine.enter();
        if (engine.check(scope) != null) {
            throw new IllegalStateException("the benchmark budget refused a call");
        }
        engine.charge(scope, 60, 40, COST);
    }

    /** The wall clock, plus the time the benchmark skipped (the idle-release wait). */
    static final class MovableClock extends Clock {
        private volatile long skippedMillis;

        void advance(Duration d) {
            skippedMillis += d.toMillis();
        }

        @Override
        public long millis() {
            return System.currentTimeMillis() + skippedMillis;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis());
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }
}
