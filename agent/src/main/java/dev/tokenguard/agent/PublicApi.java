package dev.tokenguard.agent;

import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.UsageEvents;

import java.lang.reflect.Method;
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

    /** Returns whether the API is now connected to {@code events}; never throws. */
    static boolean connect(UsageEvents events) {
        try {
            Method connect = Class.forName(LINK).getDeclaredMethod("connect", Function.class, Function.class);
            connect.setAccessible(true);
            Function<Consumer<? super dev.tokenguard.api.UsageEvent>, Runnable> subscribe = events::subscribe;
            Function<String, dev.tokenguard.api.BudgetStatus> budget = events::budget;
            return (Boolean) connect.invoke(null, subscribe, budget);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            AgentLog.failure("api.connect", e);
            return false;
        }
    }
}
