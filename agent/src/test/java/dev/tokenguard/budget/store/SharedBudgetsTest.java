package dev.tokenguard.budget.store;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.CallScope;
import dev.tokenguard.budget.ChargeResult;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.Estimate;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.SessionListener;
import dev.tokenguard.budget.ThresholdCrossing;
import dev.tokenguard.config.StoreAddress;
import dev.tokenguard.config.StoreFailureMode;
import dev.tokenguard.sample.redis.LocalRedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two budget engines (two JVMs, as far as the store can tell) sharing one global budget in a real Redis. */
class SharedBudgetsTest {
    static final String PASSWORD = "pw-5f1e2d9c";
    static final List<BudgetSpec> BUDGETS = List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.GLOBAL, 1000L,
            null, null, null, null, new double[]{0.5, 0.9}, EnforcementMode.ENFORCE));

    @TempDir
    static Path dir;
    static LocalRedisServer redis;

    @BeforeAll
    static void startRedis() throws Exception {
        redis = LocalRedisServer.start(dir, PASSWORD);
    }

    @AfterAll
    static void stopRedis() throws Exception {
        redis.close();
    }

    /** One JVM's side: its own engine and its own connection to the store. */
    record Jvm(BudgetEngine engine, SharedBudgets shared, ConcurrentLinkedQueue<String> lines) {
        static Jvm start(String namespace, String password, StoreFailureMode mode) {
            ConcurrentLinkedQueue<String> lines = new ConcurrentLinkedQueue<>();
            StoreAddress address = new StoreAddress("127.0.0.1", redis.port(), 0, false, null, password);
            return new Jvm(new BudgetEngine(BUDGETS, Clock.systemUTC(), MdcSource.NONE, SessionListener.NONE),
                    SharedBudgets.redis(address, namespace, Duration.ofMillis(200), mode, Duration.ofMinutes(15),
                            Clock.systemUTC(), lines::add), lines);
        }

        /** One call of 60 + 40 tokens, or its refusal: the result, or null when refused. */
        ChargeResult call() {
            CallScope scope = engine.enter();
            SharedBudgets.Ticket t = shared.admit(scope, BUDGETS, new Estimate(60, 40, 0), 0);
            if (t.refusal() != null) {
                return null;
            }
            ChargeResult local = engine.charge(scope, 60, 40, null);
            return shared.settle(t, scope, BUDGETS, local, 60, 40, null);
        }

        SharedBudgets.Ticket admit() {
            return shared.admit(engine.enter(), BUDGETS, new Estimate(60, 40, 0), 0);
        }
    }

    static long usedInStore(String namespace) throws Exception {
        StoreAddress address = new StoreAddress("127.0.0.1", redis.port(), 0, false, null, PASSWORD);
        try (RespConnection c = RespConnection.open(address, 1000)) {
            Object v = c.call("HGET", "tokenguard:" + namespace + ":default:global:0", "u0");
            return v == null ? 0 : Long.parseLong((String) v);
        }
    }

    static void awaitSynced(SharedBudgets s) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while ((s.unsynced()[0] != 0 || !s.reachable()) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    @Test
    void twoJvmsShareOneBudgetWarnOnceAndBothRefuse() throws Exception {
        Jvm a = Jvm.start("two-jvms", PASSWORD, StoreFailureMode.LOCAL);
        Jvm b = Jvm.start("two-jvms", PASSWORD, StoreFailureMode.LOCAL);
        List<ThresholdCrossing> crossings = new ArrayList<>();
        List<Long> usedAfter = new ArrayList<>();
        int admitted = 0;
        for (int i = 0; i < 12; i++) {
            ChargeResult r = (i % 2 == 0 ? a : b).call();
            if (r != null) {
                admitted++;
                crossings.addAll(r.crossings());
                usedAfter.add(r.states().get(0).used());
            }
        }
        // 1,000 tokens, 100 per call: calls are admitted while used < 1,000, so exactly ten, alternating JVMs
        assertEquals(10, admitted);
        assertEquals(List.of(100L, 200L, 300L, 400L, 500L, 600L, 700L, 800L, 900L, 1000L), usedAfter);
        assertEquals(2, crossings.size(), crossings.toString());
        assertEquals(new ThresholdCrossing("default", "global", 0.5, 500, 1000), crossings.get(0));
        assertEquals(new ThresholdCrossing("default", "global", 0.9, 900, 1000), crossings.get(1));
        assertNotNull(a.admit().refusal());
        assertNotNull(b.admit().refusal());
        assertEquals(1000, b.admit().refusal().used());
        assertEquals(1000, usedInStore("two-jvms"));
        assertEquals(List.of(), List.copyOf(a.lines()));
        a.shared().close();
        b.shared().close();
    }

    @Test
    void storeStoppedAndRestartedLosesNoSpendInLocalModeAndRefusesInRefuseMode() throws Exception {
        Jvm local = Jvm.start("outage", PASSWORD, StoreFailureMode.LOCAL);
        Jvm refusing = Jvm.start("outage", PASSWORD, StoreFailureMode.REFUSE);
        assertNotNull(local.call());
        assertNotNull(refusing.call());
        assertEquals(200, usedInStore("outage"));
        redis.stop();
        try {
            // local: counted on from what this JVM last saw (100: its own call, before the other JVM's)
            ChargeResult during = local.call();
            assertNotNull(during);
            assertEquals(200, during.states().get(0).used());
            assertNotNull(local.call());
            SharedBudgets.Ticket refused = refusing.admit();
            assertNotNull(refused.refusal());
            assertTrue(refused.storeUnreachable());
            assertEquals(200, local.shared().unsynced()[0]);
        } finally {
            redis.restart();
        }
        awaitSynced(local.shared());
        assertEquals(400, usedInStore("outage"));
        awaitSynced(refusing.shared());
        assertNull(refusing.admit().refusal(), "admitted again once the store is back");
        for (Jvm j : List.of(local, refusing)) {
            List<String> lines = List.copyOf(j.lines());
            assertEquals(2, lines.size(), lines.toString());
            assertTrue(lines.get(0).startsWith("[tokenguard] ") || lines.get(0).startsWith("TokenGuard: the budget store"
                    + " redis://127.0.0.1:" + redis.port() + "/0 cannot be reached"), lines.get(0));
            assertTrue(lines.get(1).contains("answers again"), lines.get(1));
            j.shared().close();
        }
    }

    @Test
    void aWrongPasswordIsOneClearLineWithoutThePassword() throws Exception {
        Jvm jvm = Jvm.start("wrong-password", "not-the-password-77", StoreFailureMode.LOCAL);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (jvm.lines().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertNotNull(jvm.call(), "counted locally meanwhile");
        List<String> lines = List.copyOf(jvm.lines());
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains("it refused the password"), lines.get(0));
        assertTrue(lines.get(0).contains("TOKENGUARD_STORE_PASSWORD"), lines.get(0));
        assertFalse(lines.get(0).contains("not-the-password-77"), lines.get(0));
        assertFalse(lines.get(0).contains(PASSWORD), lines.get(0));
        jvm.shared().close();
    }
}
