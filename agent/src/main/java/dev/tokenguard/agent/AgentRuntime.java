package dev.tokenguard.agent;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.SessionListener;
import dev.tokenguard.budget.store.SharedBudgets;
import dev.tokenguard.config.StoreAddress;
import dev.tokenguard.config.TokenGuardConfig;
import dev.tokenguard.control.Budgets;
import dev.tokenguard.control.BudgetsRegistration;
import dev.tokenguard.control.CallCounts;
import dev.tokenguard.budget.ScopeUtilization;
import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.CallerFrames;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.core.TelemetrySinks;
import dev.tokenguard.core.UsageEvents;
import dev.tokenguard.instrumentation.Plugins;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.jfr.JfrTelemetry;
import dev.tokenguard.otel.BudgetUtilization;
import dev.tokenguard.otel.OtelSetup;
import dev.tokenguard.pricing.PriceTable;
import dev.tokenguard.config.ConfigOptions;
import dev.tokenguard.sessionlog.DailyFileName;
import dev.tokenguard.sessionlog.RestartReplay;
import dev.tokenguard.sessionlog.ServiceName;
import dev.tokenguard.sessionlog.SessionLogWriter;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The agent's running parts: the budget engine, the session log, the governor that feeds both,
 * the daemon thread that releases the budgets of ended threads, and the shutdown hook that ends
 * every open session.
 *
 * <p>The callbacks made at start-up are anonymous classes, not lambdas or method references, whose classes
 * would be spun at run time on the application's start-up.
 */
final class AgentRuntime {
    static final long REAP_INTERVAL_MILLIS = 1_000;
    static final Duration SHUTDOWN_FLUSH = Duration.ofSeconds(5);
    /**
     * The longest a call may hold its reservation: longer than any SDK's default request timeout (openai-java's and
     * anthropic-java's are 10 minutes), so only a call that can no longer end (its stream neither read to the end
     * nor closed, yet still referenced) reaches it.
     */
    static final Duration MAX_CALL_LIFETIME = Duration.ofMinutes(15);

    /** {@link AgentLog#error}. */
    private static final Consumer<String> ERRORS = new Consumer<>() {
        @Override
        public void accept(String message) {
            AgentLog.error(message);
        }
    };

    private final BudgetEngine engine;
    private final SessionLogWriter log;
    private final Governor governor;
    private final Telemetry otel;
    private final UsageEvents usageEvents;
    /** The store of shared budgets, or null (memory). */
    private final AutoCloseable shared;

    private AgentRuntime(BudgetEngine engine, SessionLogWriter log, Governor governor, Telemetry otel,
                         UsageEvents usageEvents, AutoCloseable shared) {
        this.shared = shared;
        this.engine = engine;
        this.log = log;
        this.governor = governor;
        this.otel = otel;
        this.usageEvents = usageEvents;
    }

    /** The JVM's {@code otel.*} system properties, which configure export as they configure the OTel SDK. */
    private static Map<String, String> otelProperties() {
        Map<String, String> otel = new HashMap<>();
        Properties system = System.getProperties();
        for (String name : system.stringPropertyNames()) {
            if (name.startsWith("otel.")) {
                otel.put(name, system.getProperty(name));
            }
        }
        return otel;
    }

    /**
     * Whether any OTLP endpoint is set (a non-blank {@code otel.*endpoint} property or {@code OTEL_*ENDPOINT*}
     * variable). Without one nothing is exported, so no OpenTelemetry class needs to load: the usual case needs
     * none at the JVM's start-up. With one, {@code OtelSetup} reads the rest (and reports what is wrong).
     */
    static boolean mayExport(Map<String, String> otelProperties, Map<String, String> environment) {
        for (Map.Entry<String, String> e : otelProperties.entrySet()) {
            if (e.getKey().toLowerCase(java.util.Locale.ROOT).endsWith("endpoint") && !e.getValue().isBlank()) {
                return true;
            }
        }
        for (Map.Entry<String, String> e : environment.entrySet()) {
            if (e.getKey().startsWith("OTEL_") && e.getKey().contains("ENDPOINT") && e.getValue() != null
                    && !e.getValue().isBlank()) {
                return true;
            }
        }
        return false;
    }

    static AgentRuntime start(TokenGuardConfig config, Supplier<PriceTable> prices) {
        Clock clock = Clock.systemUTC();
        String service = ServiceName.resolve(otelProperties(), System.getenv());
        SessionLogWriter log = config.sessionLogEnabled()
                ? new SessionLogWriter(config.sessionLogDir(), AgentVersion.get(), ProcessHandle.current().pid(),
                clock, ERRORS, new SessionLogWriter.Settings(config.value(ConfigOptions.SESSION_LOG_LAYOUT),
                service, DailyFileName.currentProcess(), config.value(ConfigOptions.SESSION_LOG_MAX_AGE),
                orNoLimit(config.value(ConfigOptions.SESSION_LOG_MAX_TOTAL_SIZE))))
                : null;
        BudgetEngine engine = new BudgetEngine(config.budgets(), clock, new ThreadContextMdc(), sessionsTo(log));
        RestartReplay replay = log == null ? null
                : RestartReplay.start(log.dir(), service, config.budgets(), engine, clock, ERRORS);
        int budgetScopes = config.otelBudgetScopes();
        Telemetry otel = config.otelEnabled() && mayExport(otelProperties(), System.getenv())
                ? OtelTelemetry.start(OtelSetup.fromEnvironment(otelProperties(), System.getenv()), clock,
                        () -> utilization(engine, budgetScopes))
                : Telemetry.NONE;
        CallCounts counts = new CallCounts();
        Telemetry telemetry = TelemetrySinks.of(List.of(otel, JfrTelemetry.create(), counts));
        Predicate<String> pluginOn = new Predicate<>() {
            @Override
            public boolean test(String plugin) {
                return config.instrumentationEnabled(plugin);
            }
        };
        Governor governor = new Governor(engine, log, telemetry, clock,
                new Governor.Settings(config.injectWarnings(), config.captureContent(), prices, config.httpEndpoints(),
                        pluginOn, config.callSiteEnabled() ? callSites() : null, config.reservations()));
        UsageEvents usageEvents = new UsageEvents(engine, UsageEvents.BACKLOG);
        UsageEvents.install(usageEvents);
        PublicApi.connect(usageEvents);
        StoreAddress store = config.value(ConfigOptions.STORE);
        AutoCloseable shared = store == null || store.memory() ? null
                : shareBudgets(governor, engine, config, store.withPasswordFrom(System.getenv()), service, clock);
        if (replay != null) {
            governor.holdCallsUntil(replay.done(), RestartReplay.WAIT, replay::giveUp);
        }
        if (log != null) {
            log.startRetention();
        }
        AgentRuntime runtime = new AgentRuntime(engine, log, governor, otel, usageEvents, shared);
        Supplier<List<String>> sdks = new Supplier<>() {
            @Override
            public List<String> get() {
                return AgentInstaller.governedSdks();
            }
        };
        Budgets budgets = new Budgets(engine, governor, log, counts, sdks);
        runtime.startReaper(config.idleRelease().toMillis(), new BudgetsRegistration(budgets));
        Runtime.getRuntime().addShutdownHook(new Thread(new Runnable() {
            @Override
            public void run() {
                runtime.shutdown();
            }
        }, "tokenguard-shutdown"));
        return runtime;
    }

    /**
     * Shares the budgets through the configured store. Only here does a store class load: with the default
     * {@code tokenguard.store=memory} none of {@code dev.tokenguard.budget.store} is ever touched.
     */
    private static AutoCloseable shareBudgets(Governor governor, BudgetEngine engine, TokenGuardConfig config,
                                              StoreAddress store, String service, Clock clock) {
        String namespace = config.value(ConfigOptions.STORE_NAMESPACE);
        SharedBudgets shared = SharedBudgets.redis(store, config.value(ConfigOptions.STORE_TLS_CA_FILE),
                namespace != null ? namespace : service,
                config.value(ConfigOptions.STORE_TIMEOUT), config.value(ConfigOptions.STORE_ON_FAILURE),
                MAX_CALL_LIFETIME, clock, ERRORS);
        governor.shareBudgets(shared);
        engine.shareWith(shared); // JMX, status and the public API show the fleet's usage of shared budgets
        return shared;
    }

    /** Skips the frames of every plugin's SDK (by its marker class's root package), the agent's and the JDK's. */
    private static CallerFrames callSites() {
        List<String> markers = new ArrayList<>();
        for (SdkPlugin plugin : Plugins.ALL) {
            markers.add(plugin.markerClass());
        }
        return CallerFrames.forSdks(markers);
    }

    /** The gauge's points: per budget and scope kind, the {@code n} scope instances closest to their limit. */
    private static List<BudgetUtilization> utilization(BudgetEngine engine, int n) {
        List<BudgetUtilization> points = new ArrayList<>();
        for (ScopeUtilization u : engine.mostUtilized(n)) {
            points.add(new BudgetUtilization(u.budgetName(), u.scopeKey(), u.utilization()));
        }
        return points;
    }

    private static long orNoLimit(Long bytes) {
        return bytes == null ? -1 : bytes;
    }

    private static SessionListener sessionsTo(SessionLogWriter log) {
        return log == null ? SessionListener.NONE : log.sessionListener();
    }

    Governor governor() {
        return governor;
    }

    /** Every second: ends the scopes of ended threads and of idle MDC values and threads, and calls that cannot end. */
    private void startReaper(long idleReleaseMillis, BudgetsRegistration jmx) {
        Thread reaper = new Thread(new Runnable() {
            @Override
            public void run() {
                reap(idleReleaseMillis, jmx);
            }
        }, "tokenguard-reaper");
        reaper.setDaemon(true);
        reaper.start();
    }

    private void reap(long idleReleaseMillis, BudgetsRegistration jmx) {
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(REAP_INTERVAL_MILLIS);
                engine.reapEndedThreads();
                engine.releaseIdle(idleReleaseMillis);
                jmx.poll();
                reportAbandoned(engine.releaseAbandoned(MAX_CALL_LIFETIME.toMillis()));
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException | Error e) {
                AgentLog.failure("reaper", e);
            }
        }
    }

    private void reportAbandoned(java.util.List<dev.tokenguard.budget.Reservation> released) {
        if (released.isEmpty()) {
            return;
        }
        long oldest = System.currentTimeMillis() - released.get(0).reservedAtMillis();
        long tokens = 0;
        for (dev.tokenguard.budget.Reservation r : released) {
            tokens += r.estimate().totalTokens();
        }
        AgentLog.error("TokenGuard: released the reservations of " + released.size() + " call(s) that never ended"
                + " (a stream dropped without being closed, or older than " + MAX_CALL_LIFETIME.toMinutes()
                + " minutes; oldest " + oldest / 1000 + " s): " + tokens + " reserved tokens given back");
    }

    private void shutdown() {
        long dropped = usageEvents.dropped();
        if (dropped > 0) {
            AgentLog.error("TokenGuard: " + dropped + " usage event(s) were dropped because the usage listeners fell"
                    + " behind; the calls themselves were charged and logged");
        }
        try {
            // before the sessions end: a call still in flight (System.exit from the thread reading a stream) is
            // logged and charged with what is known of it, so its tokens are not lost
            governor.finishInFlight();
            engine.reapEndedThreads();
            engine.close();
            if (shared != null) {
                shared.close();
            }
        } catch (Exception | Error e) {
            AgentLog.failure("shutdown", e);
        } finally {
            if (log != null) {
                log.close();
            }
            if (otel instanceof OtelTelemetry o) {
                o.shutdown(SHUTDOWN_FLUSH);
            }
        }
    }
}
