package dev.tokenguard.bench;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.CallScope;
import dev.tokenguard.budget.ChargeResult;
import dev.tokenguard.budget.Refusal;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.SessionListener;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

/**
 * JMH benchmark of {@link BudgetEngine}: the charge after each call (per-thread scopes, and one
 * global scope that every thread charges), and the enter + check path before each call. Budgets
 * are large enough never to refuse, with the default warning thresholds.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class BudgetEngineBench {
    private static final Double COST = 0.0001;

    /** One engine with thread scopes and one with the global scope, shared by the benchmark threads. */
    @State(Scope.Benchmark)
    public static class Engines {
        BudgetEngine threadScoped;
        BudgetEngine global;

        @Setup(Level.Trial)
        public void setUp() {
            threadScoped = IdleScopes.engine(ScopeSpec.THREAD, new ThreadLocal<>(), SessionListener.NONE);
            global = IdleScopes.engine(ScopeSpec.GLOBAL, new ThreadLocal<>(), SessionListener.NONE);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            threadScoped.close();
            global.close();
        }
    }

    /** Each benchmark thread's own call scopes, resolved once on that thread. */
    @State(Scope.Thread)
    public static class Scopes {
        CallScope own;
        CallScope shared;

        @Setup(Level.Trial)
        public void setUp(Engines engines) {
            own = engines.threadScoped.enter();
            shared = engines.global.enter();
        }
    }

    /** One call's charge to the calling thread's own scope. */
    @Benchmark
    public ChargeResult chargeThreadScope(Engines engines, Scopes scopes) {
        return engines.threadScoped.charge(scopes.own, 60, 40, COST);
    }

    /** One call's charge to the global scope, which every benchmark thread charges. */
    @Benchmark
    public ChargeResult chargeGlobalScope(Engines engines, Scopes scopes) {
        return engines.global.charge(scopes.shared, 60, 40, COST);
    }

    /** What runs before each call: resolve the calling thread's scopes, then check the budgets. */
    @Benchmark
    public Refusal enterAndCheck(Engines engines) {
        BudgetEngine engine = engines.threadScoped;
        return engine.check(engine.enter());
    }
}
