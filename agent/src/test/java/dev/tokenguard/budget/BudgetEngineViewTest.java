package dev.tokenguard.budget;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** What the public API's {@code TokenGuard.budget()} answers: the calling context's budget, created by nothing. */
class BudgetEngineViewTest {
    static final Instant T0 = Instant.parse("2026-03-01T10:15:00Z");
    final MutableClock clock = new MutableClock(T0);
    final Map<String, String> mdc = new HashMap<>();
    final RecordingListener sessions = new RecordingListener();

    static BudgetSpec spec(String name, ScopeSpec scope, Long maxTokens, Long maxInput, Double maxCost,
                           Duration window) {
        return new BudgetSpec(name, scope, maxTokens, maxInput, null, maxCost, window, new double[] {0.75},
                EnforcementMode.ENFORCE);
    }

    BudgetEngine engine(BudgetSpec... specs) {
        return new BudgetEngine(List.of(specs), clock, mdc::get, sessions);
    }

    @Test
    void aThreadThatMadeNoCallYetHasItsWholeBudgetAndNoSessionStarts() {
        BudgetEngine engine = engine(spec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD, 1_000L, null, null, null));
        Thread t = Thread.currentThread();
        BudgetView view = engine.view(null);
        assertEquals(new BudgetView("default", "thread:" + t.getName() + "#" + t.getId(), 0, 1_000, 0, -1, 0), view);
        assertEquals(0, engine.liveScopes(), "asking creates no scope instance");
        assertEquals(0, sessions.started.size(), "and starts no session");
    }

    @Test
    void afterCallsTheThreadSeesWhatItsScopeUsedInTokensAndCost() {
        BudgetEngine engine = engine(spec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD, 1_000L, null, 0.50, null));
        CallScope scope = engine.enter();
        engine.charge(scope, 300, 45, 0.012);
        engine.charge(scope, 100, 5, 0.003);
        BudgetView view = engine.view(BudgetSpec.DEFAULT_NAME);
        assertEquals(scope.scopeKey(), view.scopeKey());
        assertEquals(300 + 45 + 100 + 5, view.used());
        assertEquals(1_000, view.limit());
        assertEquals(15_000_000L, view.usedNanoUsd(), "0.012 + 0.003 USD in nano-USD");
        assertEquals(500_000_000L, view.limitNanoUsd());
        assertEquals(List.of(view), engine.views(scope));
    }

    @Test
    void aGlobalWindowedBudgetNamesTheEndOfItsWindowAndStartsAgainAfterIt() {
        BudgetEngine engine = engine(spec(BudgetSpec.DEFAULT_NAME, ScopeSpec.GLOBAL, 10_000L, null, null,
                Duration.ofHours(1)));
        engine.charge(engine.enter(), 700, 50, null);
        BudgetView view = engine.view(null);
        assertEquals(new BudgetView("default", "global", 750, 10_000, 0, -1,
                Instant.parse("2026-03-01T11:00:00Z").toEpochMilli()), view);
        clock.set(Instant.parse("2026-03-01T11:00:00Z"));
        assertEquals(new BudgetView("default", "global", 0, 10_000, 0, -1,
                Instant.parse("2026-03-01T12:00:00Z").toEpochMilli()), engine.view(null));
    }

    @Test
    void anMdcBudgetAnswersForTheCallersValueAndFallsBackToTheThreadWithoutOne() {
        BudgetEngine engine = engine(spec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD, 1_000L, null, null, null),
                spec("tenants", ScopeSpec.mdc("tenant"), null, 400L, null, null));
        mdc.put("tenant", "acme");
        engine.charge(engine.enter(), 120, 30, null);
        mdc.put("tenant", "globex");
        engine.charge(engine.enter(), 10, 1, null);
        mdc.put("tenant", "acme");
        // an input limit only: the binding figure is the input tokens
        assertEquals(new BudgetView("tenants", "mdc:tenant=acme", 120, 400, 0, -1, 0), engine.view("tenants"));
        mdc.put("tenant", "initech");
        assertEquals(new BudgetView("tenants", "mdc:tenant=initech", 0, 400, 0, -1, 0), engine.view("tenants"));
        mdc.remove("tenant");
        BudgetView thread = engine.view("tenants");
        assertEquals(engine.view(null).scopeKey(), thread.scopeKey());
        assertEquals(0, thread.used(), "the thread's own instance of 'tenants' was never charged");
        assertNull(engine.view("nonexistent"));
    }

    @Test
    void anMdcValueReleasedAsIdleStillShowsWhatItUsedInTheWindow() {
        BudgetEngine engine = engine(spec(BudgetSpec.DEFAULT_NAME, ScopeSpec.mdc("user"), 5_000L, null, null,
                Duration.ofDays(1)));
        mdc.put("user", "u-7");
        engine.charge(engine.enter(), 900, 100, null);
        clock.advanceMillis(60_000);
        assertEquals(1, engine.releaseIdle(30_000));
        assertEquals(1, engine.keptScopes());
        assertEquals(1_000, engine.view(null).used());
        assertEquals("mdc:user=u-7", engine.view(null).scopeKey());
    }
}
