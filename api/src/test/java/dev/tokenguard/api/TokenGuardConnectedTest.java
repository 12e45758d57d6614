package dev.tokenguard.api;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The API once an agent connected, as the agent connects it (reflectively, through the package's one non-public
 * door). Each test loads the API into a class loader of its own, so the connection stays out of the other tests.
 */
class TokenGuardConnectedTest {

    /** The API classes in a fresh loader whose parent is the platform loader: a JVM of their own, as far as they know. */
    static URLClassLoader freshApi() {
        URL classes = TokenGuard.class.getProtectionDomain().getCodeSource().getLocation();
        return new URLClassLoader(new URL[] {classes}, ClassLoader.getPlatformClassLoader());
    }

    static boolean connect(ClassLoader api, Function<Consumer<Object>, Runnable> subscribe,
                           Function<String, Object> budget) throws Exception {
        Method connect = Class.forName("dev.tokenguard.api.AgentLink", true, api)
                .getDeclaredMethod("connect", Function.class, Function.class);
        connect.setAccessible(true);
        return (Boolean) connect.invoke(null, subscribe, budget);
    }

    static Object call(ClassLoader api, String method, Class<?> type, Object arg) throws Exception {
        Class<?> tokenGuard = Class.forName("dev.tokenguard.api.TokenGuard", true, api);
        return type == null ? tokenGuard.getMethod(method).invoke(null)
                : tokenGuard.getMethod(method, type).invoke(null, arg);
    }

    @Test
    void listenersAndBudgetsGoToTheConnectedAgent() throws Exception {
        List<Consumer<Object>> registered = new ArrayList<>();
        List<String> askedFor = new ArrayList<>();
        try (URLClassLoader api = freshApi()) {
            Class<?> statusType = Class.forName("dev.tokenguard.api.BudgetStatus", true, api);
            Object status = statusType.getConstructors()[0].newInstance("default", "thread:main#1", 10L, 100L, 0.0,
                    -1.0, null);
            assertFalse((Boolean) call(api, "isActive", null, null));
            assertTrue(connect(api, listener -> {
                registered.add(listener);
                return () -> registered.remove(listener);
            }, name -> {
                askedFor.add(String.valueOf(name));
                return name == null ? status : null;
            }));
            assertTrue((Boolean) call(api, "isActive", null, null));

            Consumer<Object> listener = event -> { };
            AutoCloseable subscription = (AutoCloseable) call(api, "onUsage", Consumer.class, listener);
            assertEquals(1, registered.size());
            assertSame(listener, registered.get(0));
            assertTrue((Boolean) subscription.getClass().getMethod("isActive").invoke(subscription));
            subscription.close();
            subscription.close();
            assertEquals(0, registered.size());

            assertEquals(Optional.of(status), call(api, "budget", null, null));
            assertEquals(Optional.empty(), call(api, "budget", String.class, "tenants"));
            assertEquals(List.of("null", "tenants"), askedFor);
        }
    }

    @Test
    void theFirstConnectionWins() throws Exception {
        try (URLClassLoader api = freshApi()) {
            assertTrue(connect(api, l -> () -> { }, n -> null));
            assertFalse(connect(api, l -> () -> { }, n -> null));
        }
    }

    @Test
    void aFailingAgentNeverReachesTheApplication() throws Exception {
        try (URLClassLoader api = freshApi()) {
            assertNotSame(TokenGuard.class, Class.forName("dev.tokenguard.api.TokenGuard", true, api));
            assertTrue(connect(api, l -> {
                throw new IllegalStateException("agent failure");
            }, n -> {
                throw new IllegalStateException("agent failure");
            }));
            Object subscription = call(api, "onUsage", Consumer.class, (Consumer<Object>) e -> { });
            assertFalse((Boolean) subscription.getClass().getMethod("isActive").invoke(subscription));
            assertEquals(Optional.empty(), call(api, "budget", null, null));
            assertEquals(Optional.empty(), call(api, "budget", String.class, "tenants"));
        }
    }
}
