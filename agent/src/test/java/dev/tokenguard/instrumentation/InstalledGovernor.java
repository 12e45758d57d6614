package dev.tokenguard.instrumentation;

import dev.tokenguard.agent.AgentInstaller;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.sessionlog.SessionLogWriter;
import net.bytebuddy.agent.ByteBuddyAgent;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/**
 * What the in-process SDK tests govern with: one thread-scoped token budget (warnings at 75, 90 and 95 %), a session
 * log in {@code dir} that fails the test on any write error, and a governor installed into this JVM by the real
 * installer.
 */
public record InstalledGovernor(SessionLogWriter log, BudgetEngine engine) {

    public static InstalledGovernor threadBudget(Path dir, long maxTokens, Telemetry telemetry,
                                                 Governor.Settings settings) {
        SessionLogWriter log = new SessionLogWriter(dir, "test", ProcessHandle.current().pid(), Clock.systemUTC(),
                line -> {
                    throw new AssertionError(line);
                });
        BudgetEngine engine = new BudgetEngine(List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD,
                maxTokens, null, null, null, null, new double[] {0.75, 0.9, 0.95}, EnforcementMode.ENFORCE)),
                Clock.systemUTC(), MdcSource.NONE, log.sessionListener());
        AgentInstaller.install(new Governor(engine, log, telemetry, Clock.systemUTC(), settings),
                ByteBuddyAgent.install());
        return new InstalledGovernor(log, engine);
    }
}
