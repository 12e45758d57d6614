package dev.tokenguard.api;

import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The agent's side of the API, which the agent sets once at start-up through {@link #connect} (reflectively: nothing
 * here is public). Only JDK types and this package's own cross it, so the agent's classes stay in the agent's own
 * class loader; with the agent, this class is the bootstrap class loader's copy, the one every application class
 * loader finds first.
 */
final class AgentLink {
    /**
     * @param subscribe registers a listener and returns what unregisters it
     * @param budget    a budget's status for the calling context by name ({@code null}: the default budget), or null
     *                  when no budget has that name
     */
    record Agent(Function<Consumer<? super UsageEvent>, Runnable> subscribe, Function<String, BudgetStatus> budget) {
    }

    private static volatile Agent agent;

    private AgentLink() {
    }

    /** Called by the agent; the first connection wins. Returns whether this call connected it. */
    static synchronized boolean connect(Function<Consumer<? super UsageEvent>, Runnable> subscribe,
                                        Function<String, BudgetStatus> budget) {
        if (agent != null || subscribe == null || budget == null) {
            return false;
        }
        agent = new Agent(subscribe, budget);
        return true;
    }

    static Agent agent() {
        return agent;
    }
}
