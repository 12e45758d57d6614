package dev.tokenguard.agent;

import dev.tokenguard.budget.BudgetState;
import dev.tokenguard.budget.ChargeResult;
import dev.tokenguard.budget.Refusal;
import dev.tokenguard.budget.Session;
import dev.tokenguard.budget.ThresholdCrossing;
import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.CallRecord;
import dev.tokenguard.core.CallRequest;
import dev.tokenguard.core.CallerFrame;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.otel.BudgetInfo;
import dev.tokenguard.otel.BudgetUtilization;
import dev.tokenguard.otel.BudgetWarning;
import dev.tokenguard.otel.GenAiCall;
import dev.tokenguard.otel.GenAiTelemetry;
import dev.tokenguard.otel.OtelSetup;
import dev.tokenguard.otel.ParentSpan;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Exports calls as OpenTelemetry spans and metrics through the {@code otel-exporter} library. The
 * SDK is built on a background thread at start-up, off the application's startup path; a call
 * that finishes before it is ready waits for it once, a bounded time.
 */
final class OtelTelemetry implements Telemetry {
    static final long READY_WAIT_SECONDS = 5;

    private final OtelSetup setup;
    private final Clock clock;
    private final Supplier<? extends Collection<BudgetUtilization>> budgets;
    private final AppTraceContext appContext = new AppTraceContext();
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile GenAiTelemetry telemetry;

    private OtelTelemetry(OtelSetup setup, Clock clock, Supplier<? extends Collection<BudgetUtilization>> budgets) {
        this.setup = setup;
        this.clock = clock;
        this.budgets = budgets;
    }

    /**
     * Telemetry for this JVM: none when export is switched off or no endpoint is configured.
     *
     * @param budgets the scope instances the {@code tokenguard.budget.utilization} gauge reports at each metric
     *                collection (bounded: the few closest to their limit), or null for no gauge
     */
    static Telemetry start(OtelSetup setup, Clock clock, Supplier<? extends Collection<BudgetUtilization>> budgets) {
        if (!setup.enabled()) {
            setup.problem().ifPresent(problem -> AgentLog.error("TokenGuard: " + problem));
            return Telemetry.NONE;
        }
        OtelTelemetry otel = new OtelTelemetry(setup, clock, budgets);
        Thread init = new Thread(otel::initialise, "tokenguard-otel-init");
        init.setDaemon(true);
        init.start();
        return otel;
    }

    private void initialise() {
        try {
            GenAiTelemetry t = new GenAiTelemetry(setup.start(problem -> AgentLog.failure("otel.export",
                    "TokenGuard: OpenTelemetry export problem (reported once; calls are not affected): " + problem)));
            if (budgets != null) {
                t.observeBudgets(budgets);
            }
            telemetry = t;
        } catch (RuntimeException | Error e) {
            AgentLog.failure("otel.start", e);
        } finally {
            ready.countDown();
        }
    }

    private GenAiTelemetry telemetry() {
        GenAiTelemetry t = telemetry;
        if (t == null) {
            try {
                ready.await(READY_WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            t = telemetry;
        }
        return t;
    }

    /** Flushes what is buffered, waiting at most {@code timeout}. */
    void shutdown(Duration timeout) {
        if (telemetry != null) {
            setup.shutdown(timeout);
        }
    }

    @Override
    public Object currentParent() {
        return appContext.current();
    }

    @Override
    public SpanIds callFinished(CallRecord record, Session session, ChargeResult charge, Object parent) {
        GenAiTelemetry t = telemetry();
        if (t == null) {
            return NO_SPAN;
        }
        GenAiCall.Builder call = GenAiCall.builder(record.provider(), record.operation())
                .requestModel(record.requestModel()).responseModel(record.responseModel())
                .responseId(record.responseId()).inputTokens(record.inputTokens()).outputTokens(record.outputTokens())
                .cacheReadTokens(record.cacheReadTokens()).cacheWriteTokens(record.cacheWriteTokens())
                .reasoningTokens(record.reasoningTokens()).streaming(record.streaming())
                .finishReasons(record.finishReasons()).server(record.serverAddress(), record.serverPort())
                .errorType(record.errorType())
                .times(record.start(), record.start().plusNanos(record.durationNanos()))
                .parent((ParentSpan) parent);
        code(call, record.callSite());
        List<BudgetState> states = charge.states();
        if (!states.isEmpty()) {
            call.budget(budget(states.get(0)));
        }
        for (ThresholdCrossing crossing : charge.crossings()) {
            call.warning(new BudgetWarning(crossing.budgetName(), crossing.threshold(), crossing.used(),
                    crossing.limit(), crossing.scopeKey()));
        }
        return ids(t, call.build());
    }

    @Override
    public SpanIds callRefused(CallRequest request, Session session, Refusal refusal, Object parent) {
        return callRefused(request, session, refusal, parent, null);
    }

    @Override
    public SpanIds callRefused(CallRequest request, Session session, Refusal refusal, Object parent,
                               CallerFrame callSite) {
        GenAiTelemetry t = telemetry();
        if (t == null) {
            return NO_SPAN;
        }
        Instant now = clock.instant();
        GenAiCall.Builder call = GenAiCall.builder(request.provider(), request.operation())
                .requestModel(request.requestModel()).streaming(request.streaming())
                .server(request.serverAddress(), request.serverPort()).refused().times(now, now)
                .parent((ParentSpan) parent);
        if (refusal.kind().isTokens()) {
            call.budget(new BudgetInfo(refusal.budgetName(), refusal.scopeKey(), refusal.used(), refusal.limit()));
        } else {
            call.budget(new BudgetInfo(refusal.budgetName(), refusal.scopeKey(), null, null));
        }
        code(call, callSite);
        return ids(t, call.build());
    }

    /** The span's {@code code.function.name} and {@code code.line.number}. */
    private static void code(GenAiCall.Builder call, CallerFrame callSite) {
        if (callSite != null) {
            int line = callSite.line();
            call.code(callSite.function(), line >= 0 ? line : null);
        }
    }

    private static BudgetInfo budget(BudgetState state) {
        return new BudgetInfo(state.name(), state.scopeKey(), state.used(), state.limit() < 0 ? null : state.limit());
    }

    private static SpanIds ids(GenAiTelemetry t, GenAiCall call) {
        return t.record(call).map(ids -> new SpanIds(ids.traceId(), ids.spanId())).orElse(NO_SPAN);
    }
}
