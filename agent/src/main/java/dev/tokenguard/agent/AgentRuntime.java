package dev.tokenguard.agent;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.Session;
import dev.tokenguard.budget.SessionListener;
import dev.tokenguard.config.TokenGuardConfig;
import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.pricing.PriceTable;
import dev.tokenguard.sessionlog.SessionLogWriter;

import java.time.Clock;

/**
 * The agent's running parts: the budget engine, the session log, the governor that feeds both,
 * the daemon thread that releases the budgets of ended threads, and the shutdown hook that ends
 * every open session.
 */
final class AgentRuntime {
    static final long REAP_INTERVAL_MILLIS = 1_000;

    private final BudgetEngine engine;
    private final SessionLogWriter log;
    private final Governor governor;

    private AgentRuntime(BudgetEngine engine, SessionLogWriter log, Governor governor) {
        this.engine = engine;
        this.log = log;
        this.governor = governor;
    }

    static AgentRuntime start(TokenGuardConfig config, PriceTable prices) {
        Clock clock = Clock.systemUTC();
        SessionLogWriter log = config.sessionLogEnabled()
                ? new SessionLogWriter(config.sessionLogDir(), AgentVersion.get(), ProcessHandle.current().pid(),
                clock, AgentLog::error)
                : null;
        BudgetEngine engine = new BudgetEngine(config.budgets(), clock, new ThreadContextMdc(), sessionsTo(log));
        Governor governor = new Governor(engine, log, Telemetry.NONE, clock,
                new Governor.Settings(config.injectWarnings(), config.captureContent(), prices));
        AgentRuntime runtime = new AgentRuntime(engine, log, governor);
        runtime.startReaper();
        Runtime.getRuntime().addShutdownHook(new Thread(runtime::shutdown, "tokenguard-shutdown"));
        return runtime;
    }

    private static SessionListener sessionsTo(SessionLogWriter log) {
        return new SessionListener() {
            @Override
            public void sessionStarted(Session session) {
                if (log != null) {
                    log.sessionStart(session);
                }
            }

            @Override
            public void sessionEnded(Session session, String reason) {
                if (log != null) {
                    log.sessionEnd(session, reason);
                }
            }
        };
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
        }
    }
}
