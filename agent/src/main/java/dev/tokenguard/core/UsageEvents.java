package dev.tokenguard.core;

import dev.tokenguard.api.BudgetStatus;
import dev.tokenguard.api.UsageEvent;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetView;
import dev.tokenguard.budget.CallScope;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Hands every charged call to the application's usage listeners ({@code TokenGuard.onUsage}) without ever letting a
 * listener touch the call.
 *
 * <p>The calling thread only puts the call's event into a bounded backlog and goes on; one daemon thread delivers the
 * events in the order they were charged, each to every listener once. A listener that throws is reported once and
 * keeps its registration; a slow one holds up only the events behind it, and when the backlog is full the newest
 * events are dropped and counted rather than the call made to wait. With no listener registered, a call costs one
 * volatile read here.
 */
public final class UsageEvents {
    /** Events waiting for slow listeners before new ones are dropped. */
    public static final int BACKLOG = 10_000;

    private static volatile UsageEvents installed;

    private final BudgetEngine engine;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final BlockingQueue<UsageEvent> backlog;
    private final AtomicLong dropped = new AtomicLong();
    private final Object starting = new Object();
    private volatile Thread dispatcher;
    private volatile boolean closed;

    /** A registered listener, with whether its failure was reported yet. */
    private static final class Listener {
        final Consumer<? super UsageEvent> consumer;
        final AtomicBoolean failureReported = new AtomicBoolean();

        Listener(Consumer<? super UsageEvent> consumer) {
            this.consumer = consumer;
        }
    }

    /**
     * @param engine  the budget engine, which answers for the budgets
     * @param backlog how many events may wait for the listeners before new ones are dropped
     */
    public UsageEvents(BudgetEngine engine, int backlog) {
        this.engine = engine;
        this.backlog = new ArrayBlockingQueue<>(backlog);
    }

    /** Makes {@code events} the one the call pipeline publishes to (null: none). */
    public static void install(UsageEvents events) {
        installed = events;
    }

    /**
     * Publishes one charged call; the governor calls it once per call, after the charge and the session log's line.
     * Never throws.
     */
    public static void charged(CallRecord record, CallScope scope) {
        UsageEvents events = installed;
        if (events != null) {
            events.publish(record, scope);
        }
    }

    void publish(CallRecord record, CallScope scope) {
        if (listeners.isEmpty() || closed) {
            return;
        }
        try {
            if (!backlog.offer(event(record, scope))) {
                dropped.incrementAndGet();
                AgentLog.failure("usage-listener.backlog", "TokenGuard: usage listeners fall behind: "
                        + (backlog.size() + backlog.remainingCapacity()) + " events wait for them, so further events"
                        + " are dropped (and counted) until they catch up; the calls are not affected. A listener"
                        + " should hand slow work to an executor of its own");
            }
        } catch (RuntimeException | Error e) {
            AgentLog.failure("usage-listener.publish", e);
        }
    }

    private UsageEvent event(CallRecord r, CallScope scope) {
        List<BudgetView> views = engine.views(scope);
        List<BudgetStatus> budgets = new ArrayList<>(views.size());
        for (BudgetView v : views) {
            budgets.add(status(v));
        }
        return new UsageEvent(r.start(), scope.session() == null ? null : scope.session().id(), scope.scopeKey(),
                r.provider(), r.operation(), r.requestModel(), r.responseModel(), r.inputTokens(), r.outputTokens(),
                r.totalTokens(), r.cacheReadTokens(), r.cacheWriteTokens(), r.reasoningTokens(), r.costUsd(),
                r.durationMillis(), r.streaming(), r.errorType(),
                r.usageSource() == null ? null : r.usageSource().wireName(),
                r.callSite() == null ? null : r.callSite().toString(), budgets);
    }

    /** The public form of a budget's view. */
    public static BudgetStatus status(BudgetView v) {
        return new BudgetStatus(v.name(), v.scopeKey(), v.used(), v.limit(), v.usedNanoUsd() / 1e9,
                v.limitNanoUsd() < 0 ? -1 : v.limitNanoUsd() / 1e9,
                v.windowEndMillis() == 0 ? null : Instant.ofEpochMilli(v.windowEndMillis()));
    }

    /** A budget's status for the calling thread ({@code TokenGuard.budget}); null when no budget has that name. */
    public BudgetStatus budget(String name) {
        BudgetView v = engine.view(name);
        return v == null ? null : status(v);
    }

    /**
     * Registers a listener; events of calls charged from now on reach it.
     *
     * @return what unregisters it
     */
    public Runnable subscribe(Consumer<? super UsageEvent> consumer) {
        Listener listener = new Listener(consumer);
        listeners.add(listener);
        startDispatcher();
        return new Unsubscribe(listeners, listener);
    }

    /** Unregisters one listener; a named class, as the application holds it. */
    private static final class Unsubscribe implements Runnable {
        private final List<Listener> listeners;
        private final Listener listener;

        Unsubscribe(List<Listener> listeners, Listener listener) {
            this.listeners = listeners;
            this.listener = listener;
        }

        @Override
        public void run() {
            listeners.remove(listener);
        }
    }

    /** Events dropped because the backlog was full. */
    public long dropped() {
        return dropped.get();
    }

    /** Stops delivery (the events still waiting are not delivered). */
    public void close() {
        closed = true;
        Thread t = dispatcher;
        if (t != null) {
            t.interrupt();
        }
    }

    private void startDispatcher() {
        if (dispatcher != null) {
            return;
        }
        synchronized (starting) {
            if (dispatcher == null && !closed) {
                Thread t = new Thread(this::deliverLoop, "tokenguard-usage-listeners");
                t.setDaemon(true);
                dispatcher = t;
                t.start();
            }
        }
    }

    private void deliverLoop() {
        while (!closed) {
            UsageEvent event;
            try {
                event = backlog.take();
            } catch (InterruptedException e) {
                return;
            }
            for (Listener listener : listeners) {
                deliver(listener, event);
            }
        }
    }

    private static void deliver(Listener listener, UsageEvent event) {
        try {
            listener.consumer.accept(event);
        } catch (Throwable e) {
            if (listener.failureReported.compareAndSet(false, true)) {
                // the type only: the application's message is its own business, and may carry what the log must not
                AgentLog.error("TokenGuard: a usage listener (" + listener.consumer.getClass().getName() + ") threw "
                        + e.getClass().getName() + "; the call was not affected and the listener stays registered;"
                        + " further failures of this listener are not printed");
            }
        }
    }
}
