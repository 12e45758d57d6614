package dev.tokenguard.control;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.core.CallRequest;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.LlmCall;
import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;
import dev.tokenguard.sessionlog.SessionLogEvents;
import dev.tokenguard.sessionlog.SessionLogWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The MBean's reads and changes against a real budget engine and governor, calls charged by hand. */
class BudgetsTest {
    @TempDir
    Path dir;
    BudgetEngine engine;
    SessionLogWriter log;
    Governor governor;
    CallCounts counts;
    Budgets budgets;
    String scope;

    @BeforeEach
    void start() {
        log = new SessionLogWriter(dir, "test", 1, Clock.systemUTC(), line -> {
            throw new AssertionError(line);
        });
        engine = new BudgetEngine(List.of(
                new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD, 1_000L, null, null, null, null,
                        new double[] {0.75}, EnforcementMode.ENFORCE),
                new BudgetSpec("team", ScopeSpec.GLOBAL, 5_000L, null, null, null, null, new double[] {0.75},
                        EnforcementMode.ENFORCE)),
                Clock.systemUTC(), MdcSource.NONE, log.sessionListener());
        counts = new CallCounts();
        governor = new Governor(engine, log, counts, Clock.systemUTC());
        budgets = new Budgets(engine, governor, log, counts);
        Thread t = Thread.currentThread();
        scope = "thread:" + t.getName() + "#" + t.getId();
    }

    @AfterEach
    void stop() {
        engine.close();
        log.close();
    }

    /** One call of 300 input and 100 output tokens; returns what the governor did with it. */
    Object call() {
        return call(governor);
    }

    static Object call(Governor governor) {
        Object started = governor.begin(new CallRequest("openai", "chat", "gpt-4o", false, null, null));
        if (started instanceof LlmCall c) {
            c.finish(new Usage(300L, 100L, null, null, null, "gpt-4o", "id", List.of(), UsageSource.PROVIDER));
        }
        return started;
    }

    List<JsonNode> changes() throws Exception {
        return SessionLogEvents.of(dir, "budget_changed");
    }

    @Test
    void readsLimitsModesUseAndTopScopes() {
        call();
        call();
        assertArrayEquals(new String[] {"default", "team"}, budgets.getBudgetNames());
        assertArrayEquals(new String[] {"default: max-tokens=1000", "team: max-tokens=5000"}, budgets.getLimits());
        assertArrayEquals(new String[] {"default=enforce", "team=enforce"}, budgets.getModes());
        assertArrayEquals(new String[] {"default=800", "team=800"}, budgets.getTotalUsed());
        assertArrayEquals(new String[] {"default " + scope + " 800 / 1000 tokens (80.0%)",
                "team global 800 / 5000 tokens (16.0%)"}, budgets.getTopScopes());
        assertEquals(2, budgets.getCalls());
        assertEquals(0, budgets.getRefusals());
        assertEquals(1, budgets.getWarnings(), "default crossed 75 % at 800 of 1000; team is at 16 %");
        assertTrue(budgets.isEnabled());
        String status = budgets.status();
        assertTrue(status.contains("  default (scope thread, mode enforce): max-tokens=1000; used 800 tokens over all"
                + " scopes\n"), status);
        assertTrue(status.contains("calls: 2, refusals: 0, warnings: 1\n"), status);
    }

    @Test
    void loweringALimitRefusesTheNextCallAndIsLogged() throws Exception {
        call();
        assertEquals("default.max-tokens: 1000 -> 400", budgets.setBy("budget.max-tokens=400", "alice"));
        assertTrue(call() instanceof BudgetExhaustedException, "400 of 400 used");
        assertEquals(1, budgets.getRefusals());
        List<JsonNode> changes = changes();
        assertEquals(1, changes.size(), changes::toString);
        JsonNode c = changes.get(0);
        assertEquals("default", c.get("budget").asText());
        assertEquals("max-tokens", c.get("key").asText());
        assertEquals("1000", c.get("old").asText());
        assertEquals("400", c.get("new").asText());
        assertEquals("alice", c.get("by").asText());
        assertTrue(c.get("session").asText().startsWith("control-"), c.toString());

        assertEquals("default.max-tokens: 400 -> 2000", budgets.setMaxTokens("default", 2_000));
        assertTrue(call() instanceof LlmCall, "raised again: 400 of 2000 used");
        assertTrue(changes().get(1).get("by").isNull(), "a JMX client's user is not known");
    }

    @Test
    void aBadValueIsRefusedWithTheStartUpErrorAndChangesNothing() throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> budgets.setBy("budget.max-tokens=lots", "alice"));
        assertEquals("TokenGuard: invalid value 'lots' for tokenguard.budget.max-tokens (from set command): expected "
                + "a positive whole number of tokens, e.g. 100000, 100_000, 250k or 2M (k = 1,000, M = 1,000,000), or "
                + "none; nothing changed", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> budgets.set("budgets.nosuch.max-tokens=5"));
        assertEquals("TokenGuard: invalid key 'budgets.nosuch.max-tokens': there is no budget 'nosuch'; expected one"
                + " of default, team; nothing changed", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> budgets.set("budget.window=1h"));
        assertTrue(e.getMessage().startsWith("TokenGuard: 'budget.window' cannot be changed while the agent runs"),
                e.getMessage());
        assertArrayEquals(new String[] {"default: max-tokens=1000", "team: max-tokens=5000"}, budgets.getLimits());
        assertEquals(0, changes().size());
    }

    @Test
    void namedBudgetKeysModeAndReset() throws Exception {
        call();
        call();
        call(); // 1200 of 1000: the next call is refused
        assertTrue(call() instanceof BudgetExhaustedException);
        assertEquals("default.mode: enforce -> warn; team.mode: enforce -> warn", budgets.set("mode=warn"));
        assertTrue(call() instanceof LlmCall, "warn never refuses");
        assertEquals("default.mode: warn -> enforce", budgets.setMode("default", "enforce"));
        assertTrue(call() instanceof BudgetExhaustedException);
        assertEquals("reset " + scope + " (1 budget)", budgets.setBy("reset scope=" + scope, "bob"));
        assertTrue(call() instanceof LlmCall, "0 of 1000 after the reset");
        assertArrayEquals(new String[] {"default=400", "team=2000"}, budgets.getTotalUsed(),
                "team (global) was not reset: 5 calls of 400 charged");
        assertEquals("team.max-tokens: 5000 -> 2000", budgets.set("budgets.team.max-tokens=2k"));
        assertTrue(call() instanceof LlmCall, "team is still in warn mode");
        assertEquals("team.mode: warn -> enforce", budgets.set("tokenguard.budgets.team.mode=enforce"));
        assertTrue(call() instanceof BudgetExhaustedException, "team: 2400 of 2000");
        assertEquals("reset global (1 budget)", budgets.resetScope("global"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> budgets.resetScope("mdc:tenant=none"));
        assertTrue(e.getMessage().startsWith("TokenGuard: no live scope 'mdc:tenant=none' to reset"), e.getMessage());
        List<JsonNode> changes = changes();
        assertEquals(7, changes.size(), changes::toString);
        assertEquals("reset", changes.get(3).get("key").asText());
        assertEquals(scope, changes.get(3).get("old").asText());
        assertEquals("bob", changes.get(3).get("by").asText());
    }

    @Test
    void switchedOffCallsPassUnchargedUntilSwitchedOn() throws Exception {
        budgets.switchOff();
        assertNull(call(), "ungoverned");
        assertArrayEquals(new String[] {"default=0", "team=0"}, budgets.getTotalUsed());
        budgets.switchOn();
        assertTrue(call() instanceof LlmCall);
        assertArrayEquals(new String[] {"default=400", "team=400"}, budgets.getTotalUsed());
        List<JsonNode> changes = changes();
        assertEquals(2, changes.size(), changes::toString);
        assertEquals("enabled", changes.get(0).get("key").asText());
        assertEquals("false", changes.get(0).get("new").asText());
    }

    @Test
    void registersOnceInThePlatformMBeanServerWithOneMBeanPerBudget() throws Exception {
        javax.management.MBeanServer server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
        javax.management.ObjectName name = new javax.management.ObjectName(BudgetsRegistration.OBJECT_NAME);
        try {
            // the platform server exists (got above): the background poll registers the MBean
            new BudgetsRegistration(budgets).poll();
            assertTrue(server.isRegistered(name));
            assertEquals(false, BudgetsRegistration.register(budgets), "a second copy leaves the first alone");
            call();
            assertEquals(1L, server.getAttribute(name, "Calls"));
            assertEquals("default.max-tokens: 1000 -> 900", server.invoke(name, "setBy",
                    new Object[] {"budget.max-tokens=900", "carol"}, new String[] {"java.lang.String",
                            "java.lang.String"}));
            assertArrayEquals(new String[] {"default: max-tokens=900", "team: max-tokens=5000"},
                    (String[]) server.getAttribute(name, "Limits"));

            // one MBean per budget, its limits and use as plain attributes
            javax.management.ObjectName team = new javax.management.ObjectName("dev.tokenguard:type=Budgets,name=team");
            javax.management.ObjectName def = new javax.management.ObjectName(
                    "dev.tokenguard:type=Budgets,name=default");
            assertEquals(3, server.queryNames(new javax.management.ObjectName("dev.tokenguard:type=Budgets,*"), null)
                    .size(), "the Budgets MBean and one per budget");
            assertEquals(5_000L, server.getAttribute(team, "MaxTokens"));
            assertEquals(-1L, server.getAttribute(team, "MaxInputTokens"), "no such limit");
            assertEquals("global", server.getAttribute(team, "Scope"));
            assertEquals("enforce", server.getAttribute(team, "Mode"));
            assertEquals(400L, server.getAttribute(team, "TotalUsed"), "one call of 300 + 100");
            assertArrayEquals(new String[] {"global 400 / 5000 tokens (8.0%)"},
                    (String[]) server.getAttribute(team, "TopScopes"));
            assertEquals(900L, server.getAttribute(def, "MaxTokens"));
            assertEquals("team.max-tokens: 5000 -> 4000", server.invoke(team, "setMaxTokens", new Object[] {4_000L},
                    new String[] {"long"}));
            assertEquals("team.mode: enforce -> warn", server.invoke(team, "setMode", new Object[] {"warn"},
                    new String[] {"java.lang.String"}));
            assertEquals("default.max-input-tokens: none -> 250000", server.invoke(def, "set",
                    new Object[] {"max-input-tokens=250k"}, new String[] {"java.lang.String"}));
            assertArrayEquals(new String[] {"default: max-tokens=900, max-input-tokens=250000",
                    "team: max-tokens=4000"}, budgets.getLimits());
            assertArrayEquals(new String[] {"default=enforce", "team=warn"}, budgets.getModes());
            assertEquals(4, changes().size(), "the Budgets MBean's change and the three through the budgets' own");
        } finally {
            for (javax.management.ObjectName n : server.queryNames(
                    new javax.management.ObjectName("dev.tokenguard:type=Budgets,*"), null)) {
                server.unregisterMBean(n);
            }
        }
    }
    @Test
    void severalSettingsAreCheckedBeforeAnyIsMade() throws Exception {
        call(); // 400 of 1000: 300 input, 100 output
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> budgets.setAllBy(
                new String[] {"budget.max-tokens=400", "mode=warn", "budgets.team.max-tokens=lots"}, "alice"));
        assertEquals("TokenGuard: invalid value 'lots' for tokenguard.budgets.team.max-tokens (from set command): "
                + "expected a positive whole number of tokens, e.g. 100000, 100_000, 250k or 2M (k = 1,000, "
                + "M = 1,000,000), or none; nothing changed", e.getMessage());
        assertArrayEquals(new String[] {"default: max-tokens=1000", "team: max-tokens=5000"}, budgets.getLimits(),
                "the two good settings before the bad one were not made");
        assertArrayEquals(new String[] {"default=enforce", "team=enforce"}, budgets.getModes());
        assertEquals(0, changes().size());
        e = assertThrows(IllegalArgumentException.class, () -> budgets.setAllBy(
                new String[] {"enabled=false", "reset scope=thread:nobody#0"}, "alice"));
        assertTrue(e.getMessage().startsWith("TokenGuard: no live scope 'thread:nobody#0' to reset"), e.getMessage());
        assertTrue(budgets.isEnabled(), "enabled=false, before the bad reset, was not made");
        e = assertThrows(IllegalArgumentException.class, () -> budgets.setAllBy(
                new String[] {"budget.max-tokens=none", "budget.max-input-tokens=500"}, "alice"));
        assertTrue(e.getMessage().startsWith("TokenGuard: budget 'default' would have no limit left"),
                "each setting is checked on top of those before it: " + e.getMessage());
        assertEquals(0, changes().size());

        assertEquals("default.max-input-tokens: none -> 500\ndefault.max-tokens: 1000 -> none\n"
                        + "team.mode: enforce -> warn\nenabled: true -> false\nenabled: false -> true",
                budgets.setAllBy(new String[] {"budget.max-input-tokens=500", "budget.max-tokens=none",
                        "budgets.team.mode=warn", "enabled=false", "enabled=true"}, "alice"));
        assertArrayEquals(new String[] {"default: max-input-tokens=500", "team: max-tokens=5000"},
                budgets.getLimits());
        assertArrayEquals(new String[] {"default=enforce", "team=warn"}, budgets.getModes());
        assertTrue(budgets.isEnabled());
        assertTrue(call() instanceof LlmCall, "300 of 500 input tokens");
        assertTrue(call() instanceof BudgetExhaustedException, "600 of 500 input tokens");
        List<JsonNode> changes = changes();
        assertEquals(5, changes.size(), "one line per key changed: " + changes);
        List<String> expected = List.of("default max-input-tokens null 500", "default max-tokens 1000 null",
                "team mode enforce warn", "* enabled true false", "* enabled false true");
        for (int i = 0; i < 5; i++) {
            JsonNode c = changes.get(i);
            assertEquals(expected.get(i), c.get("budget").asText() + " " + c.get("key").asText() + " "
                    + c.get("old").asText() + " " + c.get("new").asText(), c.toString());
            assertEquals("alice", c.get("by").asText());
        }
    }

    @Test
    void warnAtWindowAndScopeSayWhyTheyAreFixedWhileTheAgentRuns() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> budgets.set("budget.warn-at=0.5"));
        assertEquals("TokenGuard: 'budget.warn-at' cannot be changed while the agent runs (each scope remembers which "
                + "of its thresholds it has reported in the current window; new thresholds take effect at the next "
                + "start); a budget's live keys are max-tokens, max-input-tokens, max-output-tokens, max-cost-usd and "
                + "mode; nothing changed", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> budgets.set("budgets.team.scope=thread"));
        assertTrue(e.getMessage().startsWith("TokenGuard: 'budgets.team.scope' cannot be changed while the agent runs"
                + " (usage is held per scope instance"), e.getMessage());
    }

    @Test
    void statusNamesTheSdksGoverned() {
        assertTrue(budgets.status().startsWith("governance: on\nSDKs governed: none yet (an SDK is governed from the "
                + "first use of its classes)\n"), budgets.status());
        Budgets withSdks = new Budgets(engine, governor, log, counts,
                () -> List.of("openai-java 4.101.0", "anthropic-java 2.8.0"));
        assertArrayEquals(new String[] {"anthropic-java 2.8.0", "openai-java 4.101.0"}, withSdks.getSdks());
        assertTrue(withSdks.status().startsWith("governance: on\nSDKs governed: anthropic-java 2.8.0, openai-java "
                + "4.101.0\ncalls: 0"), withSdks.status());
    }

    @Test
    void anIdleMdcScopeStillShowsInTopScopesAndCanBeReset() throws Exception {
        java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(
                java.time.Instant.parse("2026-12-01T10:00:00Z").toEpochMilli());
        Clock clock = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public java.time.Instant instant() {
                return java.time.Instant.ofEpochMilli(now.get());
            }
        };
        java.util.Map<String, String> mdc = new java.util.HashMap<>();
        BudgetEngine byTenant = new BudgetEngine(List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.mdc(
                "tenant"), 1_000L, null, null, null, null, new double[] {0.75}, EnforcementMode.ENFORCE)),
                clock, mdc::get, log.sessionListener());
        try {
            CallCounts tenantCounts = new CallCounts();
            Governor tenants = new Governor(byTenant, log, tenantCounts, clock);
            Budgets live = new Budgets(byTenant, tenants, log, tenantCounts);
            mdc.put("tenant", "acme");
            call(tenants);
            call(tenants); // acme: 800 of 1000
            now.addAndGet(60_000);
            mdc.put("tenant", "zen");
            call(tenants); // zen: 400 of 1000, a minute later
            assertEquals(1, byTenant.releaseIdle(60_000), "acme, idle for a minute");
            assertArrayEquals(new String[] {"default mdc:tenant=acme 800 / 1000 tokens (80.0%)",
                    "default mdc:tenant=zen 400 / 1000 tokens (40.0%)"}, live.getTopScopes());
            assertArrayEquals(new String[] {"default=1200"}, live.getTotalUsed());
            assertEquals("reset mdc:tenant=acme (1 budget)", live.setBy("reset scope=mdc:tenant=acme", "bob"));
            assertArrayEquals(new String[] {"default mdc:tenant=zen 400 / 1000 tokens (40.0%)"}, live.getTopScopes());
            mdc.put("tenant", "acme");
            call(tenants);
            assertArrayEquals(new String[] {"default=800"}, live.getTotalUsed(), "acme starts again from 0: 400 + 400");
        } finally {
            byTenant.close();
        }
    }
}
