package dev.tokenguard.agent;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.SessionListener;
import dev.tokenguard.config.TokenGuardConfig;
import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.otel.OtelSetup;
import dev.tokenguard.pricing.PriceTable;
import java.util.function.Supplier;
import dev.tokenguard.config.ConfigOptions;
import dev.tokenguard.sessionlog.DailyFileName;
import dev.tokenguard.sessionlog.RestartReplay;
import dev.tokenguard.sessionlog.ServiceName;
import dev.tokenguard.sessionlog.SessionLogWriter;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The agent's running parts: the budget engine, the session log, the governor that feeds both,
 * the daemon thread that releases the budgets of ended threads, and the shutdown hook that ends
 * every open session.
 */
final class AgentRuntime {
    static final long REAP_INTERVAL_MILLIS = 1_000;
    static final Duration SHUTDOWN_FLUSH = Duration.ofSeconds(5);

    private final BudgetEngine engine;
    private final SessionLogWriter log;
    private final Governor governor;
    private final Telemetry telemetry;

    private AgentRuntime(BudgetEngine engine, SessionLogWriter log, Governor governor, Telemetry telemetry) {
        this.engine = engine;
        this.log = log;
        this.governor = governor;
        this.telemetry = telemetry;
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

    static AgentRuntime start(TokenGuardConfig config, Supplier<PriceTable> prices) {
        Clock clock = Clock.systemUTC();
        String service = ServiceName.resolve(otelProperties(), System.getenv());
        SessionLogWriter log = config.sessionLogEnabled()
                ? new SessionLogWriter(config.sessionLogDir(), AgentVersion.get(), ProcessHandle.current().pid(),
                clock, AgentLog::error, new SessionLogWriter.Settings(config.value(ConfigOptions.SESSION_LOG_LAYOUT),
                service, DailyFileName.currentProcess(), config.value(ConfigOptions.SESSION_LOG_MAX_AGE),
                orNoLimit(config.value(ConfigOptions.SESSION_LOG_MAX_TOTAL_SIZE))))
                : null;
        BudgetEngine engine = new BudgetEngine(config.budgets(), clock, new ThreadContextMdc(), sessionsTo(log));
        RestartReplay replay = log == null ? null
                : RestartReplay.start(log.dir(), service, config.budgets(), engine, clock, AgentLog::error);
        Telemetry telemetry = config.otelEnabled()
                ? OtelTelemetry.start(OtelSetup.fromEnvironment(otelProperties(), System.getenv()), clock)
                : Telemetry.NONE;
        Governor governor = new Governor(engine, log, telemetry, clock,
                new Governor.Settings(config.injectWarnings(), config.captureContent(), prices, config.httpEndpoints(),
                        config::instrumentationEnabled));
        if (replay != null) {
            governor.holdCallsUntil(replay.done(), RestartReplay.WAIT, replay::giveUp);
        }
        if (log != null) {
            log.startRetention();
        }
        AgentRuntime runtime = new AgentRuntime(engine, log, governor, telemetry);
        runtime.startReaper();
        Runtime.getRuntime().addShutdownHook(new Thread(runtime::shutdown, "tokenguard-shutdown"));
        return runtime;
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

    private void startReaper() {
        Thread reaper = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(REAP_INTERVAL_MILLIS);
                    engine.reapEndedThreads();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException | Error e) {
                    AgentLog.failure("reaper", e);
                }
            }
        }, "tokenguard-reaper");
        reaper.setDaemon(true);
        reaper.start();
    }

    private void shutdown() {
        try {
            engine.reapEndedThreads();
            engine.close();
        } catch (RuntimeException | Error e) {
            AgentLog.failure("shutdown", e);
        } finally {
            if (log != null) {
                log.close();
            }
            if (telemetry instanceof OtelTelemetry otel) {
                otel.shutdown(SHUTDOWN_FLUSH);
            }
        }
    }
}
