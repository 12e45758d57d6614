package dev.tokenguard.control;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.BudgetView;
import dev.tokenguard.budget.CallScope;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.Estimate;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.SessionListener;
import dev.tokenguard.budget.store.SharedBudgets;
import dev.tokenguard.config.StoreAddress;
import dev.tokenguard.config.StoreFailureMode;
import dev.tokenguard.core.Governor;
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
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What JMX, {@code status} and the public API show of a budget three JVMs share through a real Redis: the fleet's
 * usage (labelled so), each JVM's own share beside it, and a JVM that made no call following the fleet too.
 */
class FleetUsageTest {
    static final String PASSWORD = "fleet-view-pw-2b7e";
    static final List<BudgetSpec> BUDGETS = List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.GLOBAL, 1000L,
            null, null, null, null, new double[]{0.5}, EnforcementMode.ENFORCE));

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

    /** One JVM's engine, its store client and its MBean, wired as the agent wires them. */
    record Jvm(BudgetEngine engine, SharedBudgets shared, Budgets budgets, List<String> lines) {
        static Jvm start() {
            List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
            BudgetEngine engine = new BudgetEngine(BUDGETS, Clock.systemUTC(), MdcSource.NONE, SessionListener.NONE);
            SharedBudgets shared = SharedBudgets.redis(new StoreAddress("127.0.0.1", redis.port(), 0, false, null,
                            PASSWORD), "fleet-view", Duration.ofSeconds(5), StoreFailureMode.LOCAL,
                    Duration.ofMinutes(15), Clock.systemUTC(), lines::add);
            engine.shareWith(shared);
            CallCounts counts = new CallCounts();
            return new Jvm(engine, shared, new Budgets(engine, new Governor(engine, null, counts, Clock.systemUTC()),
                    null, counts), lines);
        }

        /** One admitted call of 60 + 40 tokens, charged here and in the store. */
        void call() {
            CallScope scope = engine.enter();
            SharedBudgets.Ticket t = shared.admit(scope, BUDGETS, new Estimate(60, 40, 0), 0);
            assertEquals(null, t.refusal());
            shared.settle(t, scope, BUDGETS, engine.charge(scope, 60, 40, null), 60, 40, null);
        }
    }

    /** Reads until the read answers {@code expected} (the store is read anew in the background), at most 20 s. */
    static <T> T awaitEqual(T expected, Supplier<T> read) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        T v = read.get();
        while (!expected.equals(v) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            v = read.get();
        }
        return v;
    }

    @Test
    void jmxStatusAndTheApiShowTheFleetsUsageOfASharedBudget() throws Exception {
        Jvm a = Jvm.start();
        Jvm b = Jvm.start();
        Jvm idle = Jvm.start();
        try {
            for (int i = 0; i < 3; i++) {
                a.call();
            }
            b.call();
            assertEquals("400", redis.cli("HGET", "tokenguard:fleet-view:default:global:0", "u0"));
            // b's own share is 100; what b shows is the fleet's 400, which its call's charge told it
            assertEquals(100, b.engine().totalUsed(BudgetSpec.DEFAULT_NAME));
            assertArrayEquals(new String[] {"default=400 (fleet)"}, b.budgets().getTotalUsed());
            BudgetControl control = new BudgetControl(b.budgets(), BudgetSpec.DEFAULT_NAME);
            assertEquals(400, control.getTotalUsed());
            assertTrue(control.isFleetUsage());
            assertArrayEquals(new String[] {"global 400 / 1000 tokens fleet (40.0%)"}, control.getTopScopes());
            String status = b.budgets().status();
            assertTrue(status.contains("  default (scope global, mode enforce): max-tokens=1000; used 400 tokens over"
                    + " all scopes (fleet: the shared store's count as last seen; this JVM's own: 100)\n"), status);
            BudgetView view = b.engine().view(BudgetSpec.DEFAULT_NAME); // what TokenGuard.budget() answers
            assertNotNull(view);
            assertEquals(400, view.used());
            assertEquals(1000, view.limit());
            assertTrue(view.fleet());

            // a spends 200 more while b makes no call: b's figures follow the fleet from a background read
            a.call();
            a.call();
            assertEquals("600", redis.cli("HGET", "tokenguard:fleet-view:default:global:0", "u0"));
            assertEquals(600L, awaitEqual(600L, control::getTotalUsed));
            assertEquals(600L, awaitEqual(600L, () -> b.engine().view(BudgetSpec.DEFAULT_NAME).used()));
            assertEquals(100, b.engine().totalUsed(BudgetSpec.DEFAULT_NAME));
            // a JVM that never called shows the fleet's usage too, its own share being none
            assertEquals("default=600 (fleet)", awaitEqual("default=600 (fleet)",
                    () -> idle.budgets().getTotalUsed()[0]));
            assertEquals(0, idle.engine().totalUsed(BudgetSpec.DEFAULT_NAME));
            for (Jvm j : List.of(a, b, idle)) {
                assertEquals(List.of(), List.copyOf(j.lines()));
            }
        } finally {
            for (Jvm j : List.of(a, b, idle)) {
                j.shared().close();
            }
        }
    }

    @Test
    void withoutAStoreTheFiguresAreThisJvmsAlone() {
        BudgetEngine engine = new BudgetEngine(BUDGETS, Clock.systemUTC(), MdcSource.NONE, SessionListener.NONE);
        CallCounts counts = new CallCounts();
        Budgets budgets = new Budgets(engine, new Governor(engine, null, counts, Clock.systemUTC()), null, counts);
        CallScope scope = engine.enter();
        engine.charge(scope, 60, 40, null);
        assertArrayEquals(new String[] {"default=100"}, budgets.getTotalUsed());
        BudgetControl control = new BudgetControl(budgets, BudgetSpec.DEFAULT_NAME);
        assertEquals(100, control.getTotalUsed());
        assertEquals(false, control.isFleetUsage());
        assertTrue(budgets.status().contains("used 100 tokens over all scopes\n"), budgets.status());
        assertEquals(false, engine.view(BudgetSpec.DEFAULT_NAME).fleet());
    }
}
