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
 * The rest of the agent's start-up after {@code premain} returned, on the daemon thread
 * {@code tokenguard-start} beside the application's own start: the configuration, the instrumentation
 * and the running parts. A class to instrument, or a call, reaching the agent before this is done
 * waits for it. Attached to a running JVM, {@link #configureAndInstall} runs on the attaching thread.
 * A class of its own so that nothing it refers to loads while {@code premain} runs.
 */
final class AgentStartUp implements Runnable {
    private final String arguments;
    private final Instrumentation instrumentation;
    private final DeferredTransformer deferred;

    AgentStartUp(String arguments, Instrumentation instrumentation, DeferredTransformer deferred) {
        this.arguments = arguments;
        this.instrumentation = instrumentation;
        this.deferred = deferred;
    }

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
                PublicApi.abandonPending();
                TokenGuardAgent.startFailed();
            }
        }
    }

    /** The built-in price table, read on a daemon thread off the application's start-up path. */
    private static Supplier<PriceTable> loadInBackground() {
        Prices prices = new Prices();
        Thread loader = new Thread(prices, "tokenguard-prices");
        loader.setDaemon(true);
        loader.start();
        return prices;
    }

    /**
     * Reads the configuration and installs the agent; {@code deferred} is the transformer registered at
     * JVM start-up, null when attached. Returns whether the agent was installed (false when the
     * configuration is wrong, with its one line printed, or switches the agent off).
     */
    static boolean configureAndInstall(String arguments, Instrumentation instrumentation,
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
                prices = new Prices(table);
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
        System.setProperty(TokenGuardAgent.INSTALLED_PROPERTY, AgentVersion.get());
        if (deferred == null) {
            // the public exception and the bridge must be bootstrap classes before anything refers to them
            BootstrapInjector.inject(instrumentation);
            AgentInstaller.install(config, prices, instrumentation);
        } else {
            AgentInstaller.completeAtStartup(deferred, config, prices, instrumentation);
        }
        return true;
    }

    /**
     * The price table: the given one, or the built-in one once {@link #run} read it. A class of its own, not
     * lambdas, whose classes would be spun at run time on the application's start-up.
     */
    private static final class Prices implements Supplier<PriceTable>, Runnable {
        private final CompletableFuture<PriceTable> table = new CompletableFuture<>();

        Prices() {
        }

        Prices(PriceTable given) {
            table.complete(given);
        }

        @Override
        public void run() {
            try {
                table.complete(PriceTable.builtIn());
            } catch (RuntimeException | Error e) {
                table.completeExceptionally(e);
            }
        }

        @Override
        public PriceTable get() {
            return table.join();
        }
    }
}
