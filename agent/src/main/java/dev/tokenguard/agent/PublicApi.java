package dev.tokenguard.agent;

import dev.tokenguard.api.BudgetStatus;
import dev.tokenguard.api.UsageEvent;
import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.UsageEvents;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Connects the public API ({@code dev.tokenguard.api.TokenGuard}) to the running agent. The API's one door for the
 * agent is not public (an application must not connect an agent of its own), so it is opened reflectively, once, at
 * start-up; only JDK functional types cross it. The class found is the one in the bootstrap loader, which every
 * application class loader finds before its own copy of the {@code tokenguard-api} jar.
 */
final class PublicApi {
    static final String LINK = "dev.tokenguard.api.AgentLink";

    private PublicApi() {
    }

    /** The link made at JVM start-up before the running parts exist, or null. */
    private static volatile Pending pending;

    /**
     * At JVM start-up, on the main thread: connects the API at once to functions that wait for the running
     * parts the start-up thread makes, so a listener the application registers, or a budget it reads, while
     * the agent is still starting is not lost. Never throws.
     */
    static void connectPending() {
        Pending p = new Pending();
        if (link(new PendingSubscribe(p), new PendingBudget(p))) {
            pending = p;
        }
    }

    /** The start-up stopped (a configuration error, the agent switched off): the API says no agent runs. */
    static void abandonPending() {
        Pending p = pending;
        if (p == null) {
            return;
        }
        try {
            Field agent = Class.forName(LINK).getDeclaredField("agent");
            agent.setAccessible(true);
            agent.set(null, null);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            AgentLog.failure("api.disconnect", e);
        } finally {
            p.complete(null);
        }
    }

    /** Returns whether the API is now connected to {@code events}; never throws. */
    static boolean connect(UsageEvents events) {
        Pending p = pending;
        if (p != null) {
            p.complete(events);
            return true;
        }
        return link(new Subscribe(events), new Budget(events));
    }

    private static boolean link(Function<Consumer<? super UsageEvent>, Runnable> subscribe,
                                Function<String, BudgetStatus> budget) {
        try {
            Method connect = Class.forName(LINK).getDeclaredMethod("connect", Function.class, Function.class);
            connect.setAccessible(true);
            return (Boolean) connect.invoke(null, subscribe, budget);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            AgentLog.failure("api.connect", e);
            return false;
        }
    }

    /** The running parts the start-up thread makes, awaited by the API's calls made before then. */
    private static final class Pending {
        private final CountDownLatch ready = new CountDownLatch(1);
        private volatile UsageEvents events;

        void complete(UsageEvents made) {
            events = made;
            ready.countDown();
        }

        UsageEvents await() {
            try {
                if (!ready.await(CallDispatch.READY_WAIT_SECONDS, TimeUnit.SECONDS)) {
                    AgentLog.failure("api.late", "TokenGuard: the agent was not started in "
                            + CallDispatch.READY_WAIT_SECONDS + " s; a call of the TokenGuard API saw no agent");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            UsageEvents made = events;
            if (made == null) {
                throw new IllegalStateException("TokenGuard is not running");
            }
            return made;
        }
    }

    private record Subscribe(UsageEvents events) implements Function<Consumer<? super UsageEvent>, Runnable> {
        @Override
        public Runnable apply(Consumer<? super UsageEvent> listener) {
            return events.subscribe(listener);
        }
    }

    private record Budget(UsageEvents events) implements Function<String, BudgetStatus> {
        @Override
        public BudgetStatus apply(String name) {
            return events.budget(name);
        }
    }

    private record PendingSubscribe(Pending pending) implements Function<Consumer<? super UsageEvent>, Runnable> {
        @Override
        public Runnable apply(Consumer<? super UsageEvent> listener) {
            return pending.await().subscribe(listener);
        }
    }

    private record PendingBudget(Pending pending) implements Function<String, BudgetStatus> {
        @Override
        public BudgetStatus apply(String name) {
            return pending.await().budget(name);
        }
    }
}
