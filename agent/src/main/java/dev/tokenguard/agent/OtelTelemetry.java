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
import dev.tokenguard.otel.ExitFlush;
import dev.tokenguard.otel.GenAiCall;
import dev.tokenguard.otel.GenAiTelemetry;
import dev.tokenguard.otel.OtelSetup;
import dev.tokenguard.otel.ParentSpan;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Exports calls as OpenTelemetry spans and metrics through the {@code otel-exporter} library.
 *
 * <p>Nothing of the exporter ever runs on, or waits on, the app's calling thread beyond building the span
 * record. The SDK is built on a daemon thread at start-up (about half a second on a cold JVM, mostly class
 * loading); a call that ends before it is ready takes its span ids at once (the session log names them) and
 * leaves its span to be recorded, with those ids, by that thread when the SDK is up. Calls used to wait for
 * the SDK instead, and the first one paid those few hundred milliseconds.
 *
 * <p>Once the SDK is up, the same thread sends the endpoint one empty export ({@link OtelSetup#warmUp()}): the
 * export path is then built while the app runs, and the endpoint's health is known before the JVM exits. At
 * exit the SDK gets one flush, one attempt per export without retries, for spans and metrics together: as long
 * as the agent's shutdown allows (5 s) for an endpoint that has answered and not failed since, so a healthy
 * collector gets every span even when the first export is this one; {@link #EXIT_FLUSH_NOT_YET_ANSWERED} for
 * an endpoint that has not answered yet, {@link #EXIT_FLUSH_FAILING} for one that refused, timed out or answered
 * garbage, or left the start-up export unanswered for a second after it was written. When the flush is over or out
 * of time, the exports still on the wire are dropped and the HTTP clients' I/O threads ended: the JVM's own exit
 * waits at least 300 ms for any thread in a socket call. Whatever the endpoint did not take is reported in one
 * line, and nothing else is printed.
 */
final class OtelTelemetry implements Telemetry {
    /** The longest the exit (SDK start-up included) waits for an endpoint that has not answered any export yet. */
    static final Duration EXIT_FLUSH_NOT_YET_ANSWERED = Duration.ofMillis(900);
    /** The longest the exit waits for an endpoint whose last export was refused, timed out or got a bad answer. */
    static final Duration EXIT_FLUSH_FAILING = Duration.ofMillis(450);
    /** Calls kept while the SDK starts, as many as the SDK's own span queue holds; later ones are dropped. */
    static final int MAX_EARLY_CALLS = 2048;

    private final OtelSetup setup;
    private final Clock clock;
    private final Supplier<? extends Collection<BudgetUtilization>> budgets;
    private final AppTraceContext appContext = new AppTraceContext();
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile GenAiTelemetry telemetry;
    private final Object earlyLock = new Object();
    /** Calls that ended before the SDK was up; null once it is (or could not be) built. Guarded by earlyLock. */
    private List<EarlyCall> early = new ArrayList<>();
    /** Spans lost because the SDK was not up in time or the early list was full. Guarded by earlyLock. */
    private long earlyDropped;

    private record EarlyCall(GenAiCall call, dev.tokenguard.otel.SpanIds ids) {
    }

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
        boolean up = false;
        try {
            GenAiTelemetry t = new GenAiTelemetry(setup.start(problem -> AgentLog.failure("otel.export",
                    problem + " (calls are not affected)")));
            if (setup.problem().isPresent()) {
                AgentLog.error("TokenGuard: " + setup.problem().get()); // the SDK rejected the configuration
                return;
            }
            if (budgets != null) {
                t.observeBudgets(budgets);
            }
            // record what ended meanwhile, then let calls record directly; only this swap takes the lock
            while (!up) {
                List<EarlyCall> batch;
                synchronized (earlyLock) {
                    if (early.isEmpty()) {
                        early = null;
                        telemetry = t;
                        up = true;
                        continue;
                    }
                    batch = early;
                    early = new ArrayList<>();
                }
                for (EarlyCall call : batch) {
                    t.record(call.call(), call.ids());
                }
            }
        } catch (RuntimeException | Error e) {
            AgentLog.failure("otel.start", e);
        } finally {
            synchronized (earlyLock) {
                if (early != null) {
                    earlyDropped += early.size();
                    early = null;
                }
            }
            ready.countDown();
        }
        if (up) {
            try {
                setup.warmUp(); // asynchronous: its answer is recorded by the SDK's sender threads
            } catch (RuntimeException | Error e) {
                AgentLog.failure("otel.start", e);
            }
        }
    }

    /**
     * Records the call's span now when the SDK is up; else keeps it for the start-up thread, with ids chosen
     * now. Never waits.
     */
    private SpanIds record(GenAiCall call, ParentSpan parent) {
        GenAiTelemetry t = telemetry;
        if (t == null) {
            synchronized (earlyLock) {
                if (early != null) {
                    if (early.size() >= MAX_EARLY_CALLS) {
                        earlyDropped++;
                        return NO_SPAN;
                    }
                    dev.tokenguard.otel.SpanIds ids = dev.tokenguard.otel.SpanIds.random(parent);
                    early.add(new EarlyCall(call, ids));
                    return new SpanIds(ids.traceId(), ids.spanId());
                }
            }
            t = telemetry;
            if (t == null) {
                return NO_SPAN; // the SDK could not be built
            }
        }
        return t.record(call).map(ids -> new SpanIds(ids.traceId(), ids.spanId())).orElse(NO_SPAN);
    }

    /**
     * Flushes what is buffered, once: for at most {@code timeout} when the endpoint has answered and not failed
     * since, {@link #EXIT_FLUSH_NOT_YET_ANSWERED} or {@link #EXIT_FLUSH_FAILING} otherwise (the SDK's start-up,
     * when it is still going on, counts in), and prints one line if any span or metric point could not be
     * delivered.
     */
    void shutdown(Duration timeout) {
        long begun = System.nanoTime();
        ExitFlush deadlines = new ExitFlush(timeout, min(timeout, EXIT_FLUSH_NOT_YET_ANSWERED),
                min(timeout, EXIT_FLUSH_FAILING));
        try {
            // an SDK not built yet has not heard from the endpoint: its start-up gets the short deadline
            ready.await(deadlines.notYetAnswered().toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String line = null;
        if (telemetry != null) {
            setup.shutdown(deadlines.less(Duration.ofNanos(System.nanoTime() - begun)));
            line = setup.undeliveredReport().orElse(null);
        }
        long lost;
        synchronized (earlyLock) {
            lost = earlyDropped + (early == null ? 0 : early.size());
        }
        if (lost > 0) {
            String early = lost + " span(s) of calls that ended while the exporter was starting were dropped"
                    + " (it was not ready in time, or more than " + MAX_EARLY_CALLS + " were waiting)";
            line = line == null ? "OpenTelemetry export: " + early : line + "; " + early;
        }
        if (line != null) {
            AgentLog.error(line);
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    @Override
    public Object currentParent() {
        return appContext.current();
    }

    @Override
    public SpanIds callFinished(CallRecord record, Session session, ChargeResult charge, Object parent) {
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
        return record(call.build(), (ParentSpan) parent);
    }

    @Override
    public SpanIds callRefused(CallRequest request, Session session, Refusal refusal, Object parent) {
        return callRefused(request, session, refusal, parent, null);
    }

    @Override
    public SpanIds callRefused(CallRequest request, Session session, Refusal refusal, Object parent,
                               CallerFrame callSite) {
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
        return record(call.build(), (ParentSpan) parent);
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
}
