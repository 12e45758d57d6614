package dev.tokenguard.agent;

import dev.tokenguard.config.ConfigException;
import dev.tokenguard.config.ConfigLoader;
import dev.tokenguard.config.TokenGuardConfig;
import dev.tokenguard.core.AgentLog;
import dev.tokenguard.pricing.PriceTable;
import dev.tokenguard.pricing.PricingException;

import java.lang.instrument.Instrumentation;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The agent's entry points: {@code premain} for {@code -javaagent}, {@code agentmain} for attaching
 * to a running JVM. Neither ever throws into the JVM: whatever goes wrong, one line on stderr and
 * the application starts uninstrumented.
 */
public final class TokenGuardAgent {
    /** Set once the agent is installed in this JVM; a second installation does nothing. */
    static final String INSTALLED_PROPERTY = "dev.tokenguard.installed";

    private TokenGuardAgent() {
    }

    public static void premain(String arguments, Instrumentation instrumentation) {
        start(arguments, instrumentation, true);
    }

    /** Attached to a running JVM: the SDK's classes may be in use, so they are instrumented before this returns. */
    public static void agentmain(String arguments, Instrumentation instrumentation) {
        start(arguments, instrumentation, false);
    }

    /** The built-in price table, read on a daemon thread off the application's start-up path. */
    private static Supplier<PriceTable> loadInBackground() {
        CompletableFuture<PriceTable> table = new CompletableFuture<>();
        Thread loader = new Thread(() -> {
            try {
                table.complete(PriceTable.builtIn());
            } catch (RuntimeException | Error e) {
                table.completeExceptionally(e);
            }
        }, "tokenguard-prices");
        loader.setDaemon(true);
        loader.start();
        return table::join;
    }

    private static synchronized void start(String arguments, Instrumentation instrumentation, boolean atStartup) {
        try {
            if (System.getProperty(INSTALLED_PROPERTY) != null) {
                return;
            }
            TokenGuardConfig config;
            Supplier<PriceTable> prices;
            try {
                config = ConfigLoader.load(arguments, System.getProperties(), System.getenv());
                if (!config.enabled()) {
                    return;
                }
                if (config.pricingFile().isPresent()) {
                    // the user's file is checked now: a bad one disables the agent with one line
                    PriceTable table = PriceTable.builtInWith(config.pricingFile().get());
                    prices = () -> table;
                } else {
                    prices = loadInBackground();
                }
            } catch (ConfigException e) {
                AgentLog.error(e.getMessage());
                return;
            } catch (PricingException e) {
                AgentLog.error("TokenGuard: " + e.getMessage() + "; TokenGuard is disabled, the application runs "
                        + "uninstrumented");
                return;
            }
            System.setProperty(INSTALLED_PROPERTY, AgentVersion.get());
            // the public exception and the bridge must be bootstrap classes before anything refers to them
            BootstrapInjector.inject(instrumentation);
            AgentInstaller.install(config, prices, instrumentation, atStartup);
        } catch (Throwable t) {
            System.err.println("TokenGuard: could not start (" + t + "); the application runs uninstrumented");
        }
    }
}
