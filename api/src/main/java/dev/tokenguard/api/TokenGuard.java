package dev.tokenguard.api;

import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What an application may ask of TokenGuard, which itself needs no code change: whether the agent runs, the usage of
 * each LLM call as it is charged, and the budget left to the calling context.
 *
 * <p>Depending on this class never makes the agent a requirement. Without the agent it answers "inactive": no
 * events, no budgets, and it never throws. With the agent, the agent's own copy of this package, on the bootstrap
 * class path, is the one every class loader of the application sees.
 *
 * <pre>{@code
 * try (UsageSubscription usage = TokenGuard.onUsage(e -> metrics.record(e.provider(), e.totalTokens()))) {
 *     TokenGuard.budget().ifPresent(b -> log.info("{} tokens left until {}", b.remainingTokens(), b.windowEnd()));
 * }
 * }</pre>
 */
public final class TokenGuard {
    private TokenGuard() {
    }

    /** Whether the TokenGuard agent runs in this JVM and governs calls. */
    public static boolean isActive() {
        return AgentLink.agent() != null;
    }

    /**
     * Registers a listener for every LLM call the agent charges from now on, each delivered once, after its tokens are
     * charged and its {@code llm_call} line is written. Listeners run on one agent thread, not the calling thread, in
     * the order the calls were charged; a listener that throws is reported once by the agent and keeps receiving
     * events; a listener that is slow delays only the events behind it (past a bounded backlog, events are dropped and
     * counted, never the call held up).
     *
     * @return the subscription, to close when the listener is done; without the agent one that delivers nothing
     * @throws NullPointerException when {@code listener} is null
     */
    public static UsageSubscription onUsage(Consumer<? super UsageEvent> listener) {
        Objects.requireNonNull(listener, "listener");
        AgentLink.Agent agent = AgentLink.agent();
        if (agent == null) {
            return new UsageSubscription(null);
        }
        try {
            return new UsageSubscription(agent.subscribe().apply(listener));
        } catch (RuntimeException e) {
            return new UsageSubscription(null);
        }
    }

    /**
     * The default budget as it stands for the calling context: the scope instance (thread, MDC value or global) that
     * the next LLM call made here would be charged to.
     *
     * @return the status; empty without the agent
     */
    public static Optional<BudgetStatus> budget() {
        return status(null);
    }

    /**
     * The named budget ({@code tokenguard.budgets.<name>.*}) as it stands for the calling context.
     *
     * @return the status; empty without the agent or when no budget has that name
     */
    public static Optional<BudgetStatus> budget(String name) {
        return name == null ? Optional.empty() : status(name);
    }

    private static Optional<BudgetStatus> status(String name) {
        AgentLink.Agent agent = AgentLink.agent();
        if (agent == null) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(agent.budget().apply(name));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
