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
 *
 * <p>{@code premain} only puts the bridge into the bootstrap loader, registers a transformer that
 * knows the classes to instrument by name, and returns: the configuration, the instrumentation and
 * the running parts are set up on the daemon thread {@code tokenguard-start}, while the application
 * starts. {@code agentmain} does all of it before it returns.
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

    /** Whether an installation has begun in this JVM (its start-up thread may still be running). */
    private static boolean starting;

    private static synchronized void start(String arguments, Instrumentation instrumentation, boolean atStartup) {
        try {
            if (starting || System.getProperty(INSTALLED_PROPERTY) != null) {
                return;
            }
            if (!atStartup) {
                configureAndInstall(arguments, instrumentation, null);
                return;
            }
            // the public exception and the bridge must be bootstrap classes before anything refers to them
            BootstrapInjector.inject(instrumentation);
            DeferredTransformer deferred = AgentInstaller.deferAtStartup(instrumentation);
            starting = true;
            Thread starter = new Thread(new StartUp(arguments, instrumentation, deferred), "tokenguard-start");
            starter.setDaemon(true);
            starter.start();
        } catch (Throwable t) {
            System.err.println("TokenGuard: could not start (" + t + "); the application runs uninstrumented");
        }
    }

    private static synchronized void startFailed() {
        starting = false;
    }

    /**
     * The rest of the start-up, beside the application's own: the configuration, the instrumentation and
     * the running parts. A class to instrument, or a call, reaching the agent before this is done waits
     * for it.
     */
    private record StartUp(String arguments, Instrumentation instrumentation, DeferredTransformer deferred)
            implements Runnable {
        @Override
        public void run() {
            boolean installed = false;
            try {
                installed = configureAndInstall(arguments, instrumentation, deferred);
            } catch (Throwable t) {
                System.err.println("TokenGuard: could not start (" + t + "); the application runs uninstrumented");
            } finally {
                if (!installed) {
                    AgentInstaller.abandonAtStartup(deferred, instrumentation);
                    startFailed();
                }
            }
        }
    }

    /**
     * Reads the configuration and installs the agent; {@code deferred} is the transformer registered at
     * JVM start-up, null when attached. Returns whether the agent was installed (false when the
     * configuration is wrong, with its one line printed, or switches the agent off).
     */
    private static boolean configureAndInstall(String arguments, Instrumentation instrumentation,
                                               DeferredTransformer deferred) throws Exception {
        TokenGuardConfig config;
        Supplier<PriceTable> prices;
        try {
            config = ConfigLoader.load(arguments, System.getProperties(), System.getenv());
            if (!config.enabled()) {
                return false;
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
            return false;
        } catch (PricingException e) {
            AgentLog.error("TokenGuard: " + e.getMessage() + "; TokenGuard is disabled, the application runs "
                    + "uninstrumented");
            return false;
        }
        System.setProperty(INSTALLED_PROPERTY, AgentVersion.get());
        if (deferred == null) {
            // the public exception and the bridge must be bootstrap classes before anything refers to them
            BootstrapInjector.inject(instrumentation);
            AgentInstaller.install(config, prices, instrumentation);
        } else {
            AgentInstaller.completeAtStartup(deferred, config, prices, instrumentation);
        }
        return true;
    }
}
