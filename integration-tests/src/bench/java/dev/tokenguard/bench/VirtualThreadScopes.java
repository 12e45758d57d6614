package dev.tokenguard.bench;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.SessionListener;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Thread scopes on virtual threads, one per request: {@code <threads>} virtual threads
 * ({@code Executors.newVirtualThreadPerTaskExecutor()}) each make one call (enter + check + charge, as the agent
 * does around an SDK call) and end. Run in a JVM of Java 21 or later with the agent jar on the class path.
 *
 * <p>Prints {@code RESULT vt_heap_before_bytes}, {@code vt_heap_ended_bytes} (the threads have ended, the engine's
 * reaper has not run yet), {@code vt_heap_reaped_bytes} (after {@link BudgetEngine#reapEndedThreads()}, which the
 * agent runs every second), {@code vt_heap_second_round_bytes} (after a second round of as many threads, reaped),
 * all heap used after a full GC, and {@code vt_live_scopes_after} (scopes still held).
 */
public final class VirtualThreadScopes {
    private VirtualThreadScopes() {
    }

    public static void main(String[] args) throws Exception {
        int threads = Integer.parseInt(args[0]);
        AtomicInteger sessionsEnded = new AtomicInteger();
        SessionListener counting = new SessionListener() {
            @Override
            public void sessionStarted(dev.tokenguard.budget.Session session) {
            }

            @Override
            public void sessionEnded(dev.tokenguard.budget.Session session, String reason) {
                if (THREAD_END.equals(reason)) {
                    sessionsEnded.incrementAndGet();
                }
            }
        };
        BudgetEngine engine = IdleScopes.engine(ScopeSpec.THREAD, new ThreadLocal<>(), counting);
        // the engine's and the executor's first-use costs are not per thread
        runOnVirtualThreads(engine, 1_000);
        engine.reapEndedThreads();
        long before = CallLoad.usedHeapAfterGc();
        runOnVirtualThreads(engine, threads);
        long ended = CallLoad.usedHeapAfterGc();
        int released = engine.reapEndedThreads();
        long reaped = CallLoad.usedHeapAfterGc();
        // the same again: what the first round left (the registry's hash table keeps the size it grew to) is not
        // added to by the second
        runOnVirtualThreads(engine, threads);
        released += engine.reapEndedThreads();
        long again = CallLoad.usedHeapAfterGc();
        if (released != 2 * threads || sessionsEnded.get() != 2 * threads + 1_000) {
            throw new IllegalStateException("expected " + 2 * threads + " scopes released and " + (2 * threads + 1_000)
                    + " sessions ended, got " + released + " and " + sessionsEnded.get());
        }
        System.out.println("RESULT vt_heap_before_bytes " + before);
        System.out.println("RESULT vt_heap_ended_bytes " + ended);
        System.out.println("RESULT vt_heap_reaped_bytes " + reaped);
        System.out.println("RESULT vt_heap_second_round_bytes " + again);
        System.out.println("RESULT vt_live_scopes_after " + engine.liveScopes());
        engine.close();
    }

    /** One virtual thread per call; returns when every one of them has ended. */
    private static void runOnVirtualThreads(BudgetEngine engine, int count) throws Exception {
        // compiled for Java 17: the Java 21 factory is looked up at run time
        ExecutorService perTask = (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor")
                .invoke(null);
        for (int i = 0; i < count; i++) {
            perTask.execute(() -> {
                var scope = engine.enter();
                if (engine.check(scope) != null) {
                    throw new IllegalStateException("the benchmark budget refused a call");
                }
                engine.charge(scope, 60, 40, 0.0001);
            });
        }
        perTask.shutdown();
        if (!perTask.awaitTermination(10, TimeUnit.MINUTES)) {
            throw new IllegalStateException("the virtual threads did not end");
        }
    }
}
