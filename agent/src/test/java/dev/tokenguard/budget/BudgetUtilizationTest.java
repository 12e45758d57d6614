package dev.tokenguard.budget;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The scope instances the utilization gauge reports: per budget and scope kind, the n closest to their limit. */
class BudgetUtilizationTest {

    @Test
    void onlyTheNMostUsedScopesOfEachBudgetAndKindAreReportedHighestFirst() {
        AtomicReference<String> tenant = new AtomicReference<>();
        BudgetEngine engine = new BudgetEngine(List.of(
                new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.mdc("tenant"), 100L, null, null, null, null,
                        new double[0], EnforcementMode.ENFORCE),
                new BudgetSpec("fleet", ScopeSpec.GLOBAL, null, null, 1_000L, null, null, new double[0],
                        EnforcementMode.ENFORCE)),
                Clock.systemUTC(), key -> key.equals("tenant") ? tenant.get() : null, SessionListener.NONE);
        // tenants t1..t8 use 10, 20, ... 80 tokens (input 5k, output 5k) of their 100
        for (int k = 1; k <= 8; k++) {
            tenant.set("t" + k);
            engine.charge(engine.enter(), 5L * k, 5L * k, null);
        }
        // no MDC value: the default budget falls back to this thread, which uses 30 of 100
        tenant.set(null);
        engine.charge(engine.enter(), 20, 10, null);

        List<ScopeUtilization> top = engine.mostUtilized(3);
        String thread = "thread:" + Thread.currentThread().getName() + "#" + Thread.currentThread().getId();
        // fleet: 5+10+...+40 = 180 output tokens, plus 10 = 190 of 1,000 output tokens
        assertEquals(List.of(
                new ScopeUtilization("default", "mdc:tenant=t8", 0.8),
                new ScopeUtilization("default", "mdc:tenant=t7", 0.7),
                new ScopeUtilization("default", "mdc:tenant=t6", 0.6),
                new ScopeUtilization("default", thread, 0.3),
                new ScopeUtilization("fleet", "global", 0.19)), top);

        assertEquals(List.of(), engine.mostUtilized(0));
        assertEquals(8 + 1 + 1, engine.mostUtilized(100).size(), "every instance when n exceeds them");
        engine.close();
    }

    @Test
    void tiesAreOrderedByKeyAndAnUnusedScopeIsZero() {
        AtomicReference<String> tenant = new AtomicReference<>();
        BudgetEngine engine = new BudgetEngine(List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.mdc("tenant"),
                100L, null, null, null, null, new double[0], EnforcementMode.ENFORCE)),
                Clock.systemUTC(), key -> tenant.get(), SessionListener.NONE);
        for (String t : List.of("b", "a", "c")) {
            tenant.set(t);
            engine.charge(engine.enter(), 25, 25, null);
        }
        tenant.set("idle");
        engine.enter();
        assertEquals(List.of(new ScopeUtilization("default", "mdc:tenant=a", 0.5),
                new ScopeUtilization("default", "mdc:tenant=b", 0.5),
                new ScopeUtilization("default", "mdc:tenant=c", 0.5),
                new ScopeUtilization("default", "mdc:tenant=idle", 0.0)), engine.mostUtilized(4));
        engine.close();
    }
}
