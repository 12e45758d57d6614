package dev.tokenguard.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class BudgetEngineConcurrencyTest {
    static final double[] WARN = {0.75, 0.90, 0.95};

    final MutableClock clock = new MutableClock(Instant.parse("2025-03-10T10:15:00Z"));
    final RecordingListener listener = new RecordingListener();

    /** Runs {@code work} on {@code n} threads released together; rethrows the first failure. */
    static void runConcurrently(int n, String prefix, java.util.function.IntConsumer work) throws InterruptedException {
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int index = i;
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    work.accept(index);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, prefix + i);
            threads.add(t);
            t.start();
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
    }

    @Test
    void sixtyFourThreadsTimesTenThousandChargesLoseNoToken() throws Exception {
        int threads = 64;
        int charges = 10_000;
        long globalLimit = (long) threads * charges * 3;
        BudgetEngine e = new BudgetEngine(List.of(
                new BudgetSpec("default", ScopeSpec.THREAD, 1_000_000L, null, null, null, null, WARN,
                        EnforcementMode.ENFORCE),
                new BudgetSpec("all", ScopeSpec.GLOBAL, globalLimit, null, null, null, null, WARN,
                        EnforcementMode.ENFORCE)), clock, MdcSource.NONE, listener);
        long[] perThread = new long[threads];
        ConcurrentLinkedQueue<ThresholdCrossing> globalCrossings = new ConcurrentLinkedQueue<>();
        AtomicInteger refusalsBeforeEnd = new AtomicInteger();
        runConcurrently(threads, "charger-", i -> {
            BudgetState last = null;
            for (int c = 0; c < charges; c++) {
                CallScope s = e.enter();
                if (e.check(s) != null) {
                    refusalsBeforeEnd.incrementAndGet();
                }
                ChargeResult r = e.charge(s, 1, 2, null);
                for (ThresholdCrossing x : r.crossings()) {
                    if (x.budgetName().equals("all")) {
                        globalCrossings.add(x);
                    }
                }
                last = r.states().get(0);
            }
            perThread[i] = last.used();
        });
        for (long used : perThread) {
            assertEquals(3L * charges, used);
        }
        CallScope any = e.enter();
        assertEquals(globalLimit, e.states(any).get(1).used());
        assertEquals(0, refusalsBeforeEnd.get());
        assertEquals("all", e.check(any).budgetName());
        List<ThresholdCrossing> sorted = new ArrayList<>(globalCrossings);
        sorted.sort((a, b) -> Double.compare(a.threshold(), b.threshold()));
        assertEquals(List.of(new ThresholdCrossing("all", "global", 0.75, globalLimit * 3 / 4, globalLimit),
                new ThresholdCrossing("all", "global", 0.90, globalLimit * 9 / 10, globalLimit),
                new ThresholdCrossing("all", "global", 0.95, globalLimit * 19 / 20, globalLimit)), sorted);
        long sessionTokens = 0;
        for (Session s : listener.started) {
            sessionTokens += s.inputTokens() + s.outputTokens();
        }
        assertEquals(globalLimit, sessionTokens);
        assertEquals(threads + 1, listener.started.size()); // each charger plus this thread
    }

    @Test
    void globalDefaultScopeSharesOneExactTotal() throws Exception {
        BudgetEngine e = new BudgetEngine(List.of(new BudgetSpec("default", ScopeSpec.GLOBAL, null, null, null,
                null, null, WARN, EnforcementMode.ENFORCE)), clock, MdcSource.NONE, listener);
        runConcurrently(64, "g-", i -> {
            for (int c = 0; c < 10_000; c++) {
                e.charge(e.enter(), 2, 1, 0.000001);
            }
        });
        CallScope s = e.enter();
        assertEquals(new BudgetState("default", "global", 64 * 10_000 * 3, -1), e.states(s).get(0));
        assertEquals(1, listener.started.size());
        assertEquals(64 * 10_000 * 2, s.session().inputTokens());
        assertEquals(0.64, s.session().costUsd(), 1e-9);
    }

    @Test
    void windowResetsUnderLoadLoseAndDoubleCountNothing() throws Exception {
        BudgetEngine e = new BudgetEngine(List.of(new BudgetSpec("default", ScopeSpec.GLOBAL, null, null, null,
                null, Duration.ofSeconds(1), WARN, EnforcementMode.ENFORCE)), clock, MdcSource.NONE, listener);
        int threads = 8;
        int charges = 20_000;
        runConcurrently(threads, "w-", i -> {
            for (int c = 0; c < charges; c++) {
                CallScope s = e.enter();
                if (i == 0 && c % 500 == 0) {
                    clock.advanceMillis(300); // the boundary passes between enter and charge, often
                }
                e.charge(s, 1, 0, null);
            }
        });
        e.close();
        long ended = 0;
        int resets = 0;
        for (RecordingListener.Ended end : listener.ended) {
            assertEquals(end.input(), end.session().inputTokens(), "charged after its end: " + end.session());
            ended += end.input();
            if (end.reason().equals(SessionListener.WINDOW_RESET)) {
                resets++;
            }
        }
        assertEquals((long) threads * charges, ended);
        assertTrue(resets >= 10, "expected many window resets, got " + resets);
        assertEquals(listener.started.size(), listener.ended.size());
        assertEquals(resets + 1, listener.ended.size(), "every session ends by a window reset, the last by close()");
        assertEquals(listener.started.size(), listener.startCount.size(), "every session id is distinct");
        for (Map.Entry<String, AtomicInteger> started : listener.startCount.entrySet()) {
            assertEquals(1, started.getValue().get());
            assertEquals(1, listener.endCount.get(started.getKey()).get(), started.getKey());
        }
        assertEquals(listener.started.size(), listener.tokensAtStart.size());
        for (long atStart : listener.tokensAtStart) {
            assertEquals(0, atStart);
        }
    }

    @Test
    void hundredThousandShortLivedThreadsAreAllReaped() throws Exception {
        BudgetEngine e = new BudgetEngine(List.of(new BudgetSpec("default", ScopeSpec.THREAD, 1000L, null, null,
                null, null, WARN, EnforcementMode.ENFORCE)), clock, MdcSource.NONE, listener);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger reaped = new AtomicInteger();
        Thread reaper = new Thread(() -> {
            while (running.get()) {
                reaped.addAndGet(e.reapEndedThreads());
                try {
                    Thread.sleep(2); // the agent reaps periodically, not in a busy loop
                } catch (InterruptedException x) {
                    return;
                }
            }
        }, "reaper");
        reaper.setDaemon(true);
        reaper.start();
        int total = 100_000;
        int batch = 1_000;
        AtomicInteger failures = new AtomicInteger();
        AtomicInteger charged = new AtomicInteger();
        for (int b = 0; b < total / batch; b++) {
            Thread[] threads = new Thread[batch];
            for (int i = 0; i < batch; i++) {
                threads[i] = new Thread(() -> {
                    try {
                        CallScope s = e.enter();
                        if (e.check(s) == null && e.charge(s, 3, 4, null).states().get(0).used() == 7) {
                            charged.incrementAndGet();
                        }
                    } catch (Throwable x) {
                        failures.incrementAndGet();
                    }
                }, "short-" + b + "-" + i);
                threads[i].start();
            }
            for (Thread t : threads) {
                t.join();
            }
        }
        running.set(false);
        reaper.join();
        reaped.addAndGet(e.reapEndedThreads());
        assertEquals(0, failures.get());
        assertEquals(total, charged.get());
        assertEquals(0, e.liveScopes());
        assertEquals(total, reaped.get());
        assertEquals(total, listener.started.size());
        assertEquals(total, listener.ended.size());
        for (RecordingListener.Ended end : listener.ended) {
            assertEquals(SessionListener.THREAD_END, end.reason());
            assertEquals(3, end.input());
        }
        for (Session s : listener.started) {
            assertEquals(1, listener.endCount.get(s.id()).get(), s.id());
        }
        assertEquals(0, e.reapEndedThreads());
    }

    @Test
    void chargeAfterTheThreadWasReapedIsCountedWithoutReopeningTheSession() throws Exception {
        BudgetEngine e = new BudgetEngine(List.of(new BudgetSpec("default", ScopeSpec.THREAD, 10L, null, null,
                null, null, WARN, EnforcementMode.ENFORCE)), clock, MdcSource.NONE, listener);
        AtomicReference<CallScope> scope = new AtomicReference<>();
        Thread t = new Thread(() -> scope.set(e.enter()), "async-caller");
        t.start();
        t.join();
        assertEquals(1, e.reapEndedThreads());
        ChargeResult r = e.charge(scope.get(), 6, 6, null); // the async call completes after its thread ended
        assertEquals(12, r.states().get(0).used());
        assertEquals(3, r.crossings().size());
        assertEquals("default", e.check(scope.get()).budgetName());
        assertEquals(1, listener.ended.size());
        assertEquals(0, listener.ended.peek().input());
        assertEquals(0, e.liveScopes());
    }
}
