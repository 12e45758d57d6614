package dev.tokenguard.core;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.BudgetState;
import dev.tokenguard.budget.CallScope;
import dev.tokenguard.budget.ChargeResult;
import dev.tokenguard.budget.Estimate;
import dev.tokenguard.budget.Refusal;
import dev.tokenguard.budget.Reservation;
import dev.tokenguard.budget.Session;
import dev.tokenguard.budget.ThresholdCrossing;
import dev.tokenguard.budget.store.SharedBudgets;
import dev.tokenguard.pricing.PriceTable;
import dev.tokenguard.sessionlog.SessionLogWriter;

import java.time.Clock;
import java.time.Instant;
import dev.tokenguard.config.HttpEndpoint;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The call pipeline every instrumentation feeds: before a call, resolve its scope and refuse it
 * when a budget is exhausted; after it, charge its tokens, log it and hand it to telemetry.
 * Instrumentations know SDKs; the governor knows only {@link CallRequest} and {@link Usage}.
 */
public final class Governor {
    /**
     * Optional behaviour.
     *
     * @param injectWarnings after a threshold is crossed, the next request of the scope carries a
     *                       short system message saying how much budget is left
     * @param captureContent the session log also records prompts and completions (truncated)
     * @param prices         the price table that gives each call its {@code cost_usd} (it may still be
     *                       loading; the first priced call waits for it), or null for none
     * @param httpEndpoints  the base URLs ({@code tokenguard.http.endpoints}) the HTTP layer governs besides
     *                       the providers' own hosts
     * @param pluginOn       whether the plugin of the given name is on
     *                       ({@code tokenguard.instrumentation.<name>.enabled}); null for every plugin
     * @param callSites      finds each call's application frame ({@code call_site}), or null to look for none
     * @param reservations   how calls reserve their expected tokens; null for {@link Reservations#DEFAULT}
     */
    public record Settings(boolean injectWarnings, boolean captureContent, Supplier<PriceTable> prices,
                           List<HttpEndpoint> httpEndpoints, Predicate<String> pluginOn, CallerFrames callSites,
                           Reservations reservations) {
        /** Every plugin is on (a class of its own, not a lambda spun at run time on the start-up). */
        private static final Predicate<String> EVERY_PLUGIN = new Predicate<>() {
            @Override
            public boolean test(String name) {
                return true;
            }
        };
        public static final Settings DEFAULT = new Settings(false, false, null);

        public Settings {
            httpEndpoints = httpEndpoints == null ? List.of() : List.copyOf(httpEndpoints);
            pluginOn = pluginOn == null ? EVERY_PLUGIN : pluginOn;
            reservations = reservations == null ? Reservations.DEFAULT : reservations;
        }

        /** Settings with the default reservations. */
        public Settings(boolean injectWarnings, boolean captureContent, Supplier<PriceTable> prices,
                        List<HttpEndpoint> httpEndpoints, Predicate<String> pluginOn, CallerFrames callSites) {
            this(injectWarnings, captureContent, prices, httpEndpoints, pluginOn, callSites, null);
        }

        /** Settings that look for no call sites, with the default reservations. */
        public Settings(boolean injectWarnings, boolean captureContent, Supplier<PriceTable> prices,
                        List<HttpEndpoint> httpEndpoints, Predicate<String> pluginOn) {
            this(injectWarnings, captureContent, prices, httpEndpoints, pluginOn, null, null);
        }

        /** These settings with other reservations. */
        public Settings withReservations(Reservations r) {
            return new Settings(injectWarnings, captureContent, prices, httpEndpoints, pluginOn, callSites, r);
        }

        /** Settings with no configured HTTP endpoints and every plugin on. */
        public Settings(boolean injectWarnings, boolean captureContent, Supplier<PriceTable> prices) {
            this(injectWarnings, captureContent, prices, List.of(), null, null, null);
        }
    }

    private final BudgetEngine engine;
    /** False while governance is switched off live: calls pass uncharged and unrefused. */
    private volatile boolean governing = true;
    private final SessionLogWriter log;
    private final Telemetry telemetry;
    private final Clock clock;
    private final Settings settings;
    /** Work the first calls wait for (the restart replay of windowed budgets); null once done or given up. */
    private volatile StartupWait startupWait;
    /** Budget notices waiting for the next request of a scope, by the default budget's scope key. */
    private final Map<String, String> pendingNotices = new ConcurrentHashMap<>();
    private static final long WARNING_ORDER_WAIT_NANOS = 1_000_000_000L;
    private final String defaultBudget;
    private final double[] defaultWarnAt;
    /** The store that shares {@code global} and {@code mdc:} budgets with other JVMs, or null (memory). */
    private volatile SharedBudgets shared;
    /** Calls begun and not yet finished, for {@link #finishInFlight()} at shutdown. */
    private final CallsInFlight inFlight = new CallsInFlight();

    /**
     * @param engine    the budget engine
     * @param log       the session log, or null when it is switched off
     * @param telemetry where calls go besides the log
     * @param clock     the wall clock for call start times
     */
    public Governor(BudgetEngine engine, SessionLogWriter log, Telemetry telemetry, Clock clock) {
        this(engine, log, telemetry, clock, Settings.DEFAULT);
    }

    public Governor(BudgetEngine engine, SessionLogWriter log, Telemetry telemetry, Clock clock, Settings settings) {
        this.engine = engine;
        this.log = log;
        this.telemetry = telemetry;
        this.clock = clock;
        this.settings = settings;
        BudgetSpec first = engine.budgets().get(0);
        this.defaultBudget = first.name();
        this.defaultWarnAt = first.warnAt();
    }

    /**
     * Starts a call on the calling thread.
     *
     * @return the call to finish later, or the {@link BudgetExhaustedException} to throw instead of
     *         making the request, or null when an internal failure leaves the call ungoverned
     */
    public Object begin(CallRequest request) {
        if (!governing) {
            return null;
        }
        try {
            StartupWait startup = startupWait;
            if (startup != null && !EventLoopThreads.isEventLoop(Thread.currentThread())) {
                awaitStartup(startup); // an event loop never waits: its calls go on with what was replayed so far
            }
            CallScope scope = engine.enter();
            Object parent = telemetry.currentParent();
            CallerFrame callSite = callSite();
            Reservations reservations = settings.reservations();
            Reservation reservation = null;
            long wait = EventLoopThreads.isEventLoop(Thread.currentThread()) ? 0
                    : reservations.reserveWait().toNanos();
            if (reservations.on()) {
                Object decided = engine.reserveOrRefuse(scope, estimate(request, reservations, scope), wait);
                if (decided instanceof Refusal refusal) {
                    return refuse(request, scope, refusal, parent, callSite);
                }
                reservation = (Reservation) decided;
            } else {
                Refusal refusal = engine.check(scope);
                if (refusal != null) {
                    return refuse(request, scope, refusal, parent, callSite);
                }
            }
            SharedBudgets fleet = shared;
            SharedBudgets.Ticket ticket = null;
            if (fleet != null) {
                ticket = fleet.admit(scope, engine.budgets(), reservation != null ? reservation.estimate()
                        : Estimate.NONE, reservations.on() ? wait : 0);
                if (ticket.refusal() != null) {
                    if (reservation != null) {
                        engine.release(reservation);
                    }
                    return refuse(request, scope, ticket.refusal(), parent, callSite, ticket.storeUnreachable()
                            ? " (the budget store cannot be reached; tokenguard.store.on-failure=refuse)" : "");
                }
            }
            try {
                String notice = settings.injectWarnings() ? pendingNotices.remove(scope.scopeKey()) : null;
                LlmCall call = new LlmCall(this, request, scope, clock.instant(), System.nanoTime(), notice,
                        settings.captureContent(), parent, callSite, reservation);
                java.lang.ref.WeakReference<LlmCall> entry = inFlight.begun(call);
                call.inFlightId = entry;
                if (reservation != null) {
                    reservation.ownedByReferent(entry); // the same weak reference to the call: one per call
                }
                if (ticket != null) {
                    call.sharedTicket(ticket);
                }
                return call;
            } catch (RuntimeException | Error e) {
                if (reservation != null) {
                    engine.release(reservation);
                }
                if (fleet != null) {
                    fleet.release(ticket);
                }
                throw e;
            }
        } catch (RuntimeException | Error e) {
            AgentLog.failure("governor.begin", e);
            return null;
        }
    }

    /** The calling thread's application frame, when call sites are looked for; never throws. */
    private CallerFrame callSite() {
        CallerFrames callSites = settings.callSites();
        if (callSites == null) {
            return null;
        }
        try {
            CallerFrame ahead = callSites.takeAhead(); // found by the plugin just before this call began
            return ahead != CallerFrames.NOT_AHEAD ? ahead : callSites.find();
        } catch (RuntimeException e) {
            AgentLog.failure("call-site", e);
            return null;
        }
    }

    /**
     * How many calls of its bound a budget must still have room for before a call reserves the cheap bound of its
     * input instead of counting it: far from the limit the exact count decides nothing, near it every call counts.
     */
    static final int ROOM_FOR_BOUNDED_CALLS = 32;

    /**
     * What a call reserves: its input plus its own output cap, or {@code reserve-output} when it sets none; and the
     * priced estimate of both when the model is priced. The input is first taken at its cheap upper bound (the
     * request's length in UTF-8 bytes, {@link RequestInput#tokenBound()}); while every enforcing budget of the scope
     * has room for {@link #ROOM_FOR_BOUNDED_CALLS} such calls, that bound is what the call reserves. Otherwise its
     * text is counted locally (jtokkit: the model's encoding for OpenAI-family models, o200k as the estimate for the
     * others), so that close to a limit calls reserve what they are expected to use. Without a {@code scope} the
     * input is always counted.
     */
    Estimate estimate(CallRequest request, Reservations reservations, CallScope scope) {
        Long cap = request.outputCap();
        long output = cap != null && cap >= 0 ? cap : reservations.reserveOutput();
        RequestInput in = request.input();
        if (in == null) {
            return priced(request, 0, output);
        }
        long bound = -1;
        try {
            bound = in.tokenBound();
        } catch (RuntimeException e) {
            AgentLog.failure("reserve.bound", e);
        }
        // a store's fleet-wide room is not known here, and without a scope there is no room to ask about: count
        if (bound >= 0 && shared == null && scope != null) {
            Estimate bounded = priced(request, bound, output);
            if (engine.hasRoomFor(scope, bounded, ROOM_FOR_BOUNDED_CALLS)) {
                return bounded;
            }
        }
        long input = 0;
        try {
            String text = in.text();
            if (text != null) {
                input = TokenEstimator.estimate(request.requestModel(), text);
            }
        } catch (RuntimeException e) {
            AgentLog.failure("reserve.count", e);
        }
        return priced(request, input, output);
    }

    private Estimate priced(CallRequest request, long input, long output) {
        double cost = Double.NaN;
        if (settings.prices() != null) {
            try {
                PriceTable prices = settings.prices().get();
                cost = prices.costOrNaN(request.provider(), request.requestModel(), input, output, 0, 0, 0);
            } catch (RuntimeException e) {
                AgentLog.failure("reserve.price", e);
            }
        }
        return Estimate.ofUsd(input, output, cost);
    }

    private BudgetExhaustedException refuse(CallRequest request, CallScope scope, Refusal refusal, Object parent,
                                            CallerFrame callSite) {
        return refuse(request, scope, refusal, parent, callSite, "");
    }

    private BudgetExhaustedException refuse(CallRequest request, CallScope scope, Refusal refusal, Object parent,
                                            CallerFrame callSite, String note) {
        Session session = scope.session();
        if (log != null) {
            log.budgetExceeded(session, refusal.budgetName(), refusal.used(), refusal.limit(), refusal.kind(),
                    request.provider(), request.requestModel(), callSite == null ? null : callSite.toString());
        }
        telemetry.callRefused(request, session, refusal, parent, callSite);
        if (!refusal.kind().isTokens()) {
            // a cost limit: the exception speaks of tokens, so it carries the budget's token state and
            // names the cost in the refused call's description
            long used = 0;
            long limit = -1;
            for (BudgetState state : engine.states(scope)) {
                if (state.name().equals(refusal.budgetName())) {
                    used = state.used();
                    limit = state.limit();
                }
            }
            return new BudgetExhaustedException(refusal.budgetName(), refusal.scopeKey(), used, limit,
                    String.format(Locale.ROOT, "%s (cost limit: $%.4f of $%.4f used)", request.describe(),
                            refusal.used() / 1e9, refusal.limit() / 1e9));
        }
        return new BudgetExhaustedException(refusal.budgetName(), refusal.scopeKey(), refusal.used(),
                refusal.limit(), request.describe() + note);
    }

    /**
     * Waits, briefly, until the warnings of the lower thresholds are in the session's log: concurrent calls may cross
     * 0.90 and 0.95 at nearly the same time, and the log keeps threshold order. Every lower threshold was crossed in
     * the same window by some call that is about to log it, so the wait is short; it is bounded all the same (a call
     * that failed between its charge and its log line must not hold the others).
     */
    private static void awaitLowerWarnings(Session session, int t) {
        long deadline = System.nanoTime() + WARNING_ORDER_WAIT_NANOS;
        for (int spins = 0; !session.lowerWarningsLogged(t); spins++) {
            if (System.nanoTime() - deadline >= 0) {
                return;
            }
            if (spins < 100) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(50_000);
            }
        }
    }

    /** Charges and records a finished call; called once per call by {@link LlmCall}. */
    void finish(LlmCall call, Usage usage, Throwable error) {
        inFlight.ended(call.inFlightId);
        try {
            InjectedFault.at("finish");
            if (usage.hasTokens() && usage.problem(false) != null) {
                // the instrumentation's own check replaces unreadable usage with an estimate; counts
                // that still make no sense are not charged, but the call is logged all the same
                AgentLog.failure("usage.absurd", "TokenGuard: a response from " + call.request().provider()
                        + " reported unusable token counts (" + usage.problem(false) + "); the call is logged"
                        + " without them");
                usage = new Usage(null, null, null, null, null, usage.responseModel(), usage.responseId(),
                        usage.finishReasons(), UsageSource.ESTIMATED);
            }
            CallRequest request = call.request();
            long durationNanos = System.nanoTime() - call.startNanos();
            Double cost = cost(request, usage);
            CallRecord record = new CallRecord(request, usage, call.start(), durationNanos,
                    error == null ? null : error.getClass().getName(), cost, call.callSite());
            long input = CallRecord.orZero(record.inputTokens());
            long output = CallRecord.orZero(record.outputTokens());
            ChargeResult charge = engine.charge(call.scope(), call.reservation(), input, output, cost);
            SharedBudgets fleet = shared;
            if (fleet != null) {
                charge = fleet.settle(call.sharedTicket(), call.scope(), engine.budgets(), charge, input, output, cost);
            }
            Session session = call.scope().session();
            Telemetry.SpanIds ids = telemetry.callFinished(record, session, charge, call.parent());
            if (log != null) {
                log.llmCall(session, record, charge, ids.traceId(), ids.spanId(), call.promptContent(),
                        call.completionContent(), call.wasNoticeInjected());
                List<ThresholdCrossing> crossings = charge.crossings();
                for (int c = 0; c < crossings.size(); c++) { // by index: no iterator per call when there is none
                    ThresholdCrossing crossing = crossings.get(c);
                    int t = crossing.budgetName().equals(defaultBudget) ? Arrays.binarySearch(defaultWarnAt,
                            crossing.threshold()) : -1;
                    if (t > 0 && (fleet == null || !fleet.shares(crossing.budgetName(), call.scope()))) {
                        awaitLowerWarnings(session, t); // a shared budget's lower warnings may be another JVM's
                    }
                    log.budgetWarning(session, crossing.budgetName(), crossing.threshold(), crossing.used(),
                            crossing.limit(), crossing.kind());
                    if (t >= 0) {
                        session.warningLogged(t);
                    }
                }
            }
            UsageEvents.charged(record, call.scope());
            if (settings.injectWarnings() && !charge.crossings().isEmpty()) {
                ThresholdCrossing last = charge.crossings().get(charge.crossings().size() - 1);
                pendingNotices.put(call.scope().scopeKey(), notice(last));
            }
        } catch (RuntimeException | Error e) {
            AgentLog.failure("governor.finish", e);
        } finally {
            if (call.reservation() != null) {
                engine.release(call.reservation()); // no-op once charged; never leaks on a failure before the charge
            }
            SharedBudgets fleet = shared;
            if (fleet != null) {
                fleet.release(call.sharedTicket());
            }
        }
    }

    private Double cost(CallRequest request, Usage usage) {
        if (settings.prices() == null) {
            return null;
        }
        PriceTable prices;
        try {
            prices = settings.prices().get();
        } catch (RuntimeException e) {
            AgentLog.failure("pricing", e);
            return null;
        }
        String model = usage.responseModel() != null ? usage.responseModel() : request.requestModel();
        Double cost = prices.cost(request.provider(), model, usage.inputTokens(), usage.outputTokens(),
                usage.cacheReadTokens(), usage.cacheWriteTokens(), usage.reasoningTokens());
        if (cost == null && usage.responseModel() != null && request.requestModel() != null) {
            cost = prices.cost(request.provider(), request.requestModel(), usage.inputTokens(), usage.outputTokens(),
                    usage.cacheReadTokens(), usage.cacheWriteTokens(), usage.reasoningTokens());
        }
        return cost;
    }

    /**
     * The note a request carries after {@code crossing} (with {@code warnings.inject}): it starts with
     * {@code [TokenGuard]} so that whoever reads prompts, logs or model output can tell where it came
     * from, says the level in words (below 90 % a note, below 95 % critical, from 95 % final) and gives
     * the exact numbers.
     */
    static String notice(ThresholdCrossing crossing) {
        long left = Math.max(0, crossing.limit() - crossing.used());
        double t = crossing.threshold();
        String level;
        String advice;
        if (t >= 0.95) {
            level = "final";
            advice = "The next request may be refused: finish now with what you have.";
        } else if (t >= 0.90) {
            level = "critical";
            advice = "Wrap up: keep answers short and bring the task to an end.";
        } else {
            level = "note";
            advice = "Keep answers concise.";
        }
        String amounts = crossing.kind().isTokens()
                ? String.format(Locale.ROOT, "%,d of %,d tokens used, %,d left", crossing.used(), crossing.limit(), left)
                : String.format(Locale.ROOT, "$%.4f of $%.4f used, $%.4f left", crossing.used() / 1e9,
                        crossing.limit() / 1e9, left / 1e9);
        return String.format(Locale.ROOT, "[TokenGuard] Budget %s: %d%% of this conversation's budget is used (%s)."
                + " %s", level, Math.round(t * 100), amounts, advice);
    }

    /**
     * Makes governed calls wait for {@code done} before their budgets are checked, at most {@code bound} counted
     * from the first call that waits; when the bound passes first, {@code onTimeout} runs once and calls go on.
     * Start-up itself does not wait.
     */
    public void holdCallsUntil(Future<?> done, Duration bound, Runnable onTimeout) {
        startupWait = new StartupWait(done, bound.toNanos(), onTimeout);
    }

    private void awaitStartup(StartupWait wait) {
        if (wait.done.isDone()) {
            startupWait = null;
            return;
        }
        long deadline = wait.deadline();
        try {
            wait.done.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            if (wait.timedOut.compareAndSet(false, true)) {
                wait.onTimeout.run();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the app's interrupt: go on without the replay, keep the flag
            return;
        } catch (ExecutionException | CancellationException e) {
            // the work reported its own failure
        }
        startupWait = null;
    }

    /** What calls wait for at start-up, and for how long from the first call. */
    private static final class StartupWait {
        final Future<?> done;
        final long boundNanos;
        final Runnable onTimeout;
        final AtomicBoolean timedOut = new AtomicBoolean();
        private final AtomicLong deadline = new AtomicLong();

        StartupWait(Future<?> done, long boundNanos, Runnable onTimeout) {
            this.done = done;
            this.boundNanos = boundNanos;
            this.onTimeout = onTimeout;
        }

        long deadline() {
            long d = deadline.get();
            if (d == 0) {
                long candidate = System.nanoTime() + boundNanos;
                d = deadline.compareAndSet(0, candidate == 0 ? 1 : candidate) ? candidate : deadline.get();
            }
            return d;
        }
    }

    /**
     * At shutdown: logs and charges every call still in flight (its stream being read by a thread that called
     * {@code System.exit}, say) with what is known of it, marked {@code usage_source} {@code estimated}, status
     * {@code error}, {@code error_type} {@link InFlightAtShutdown}: a stream's text so far where its instrumentation
     * tells ({@link LlmCall#usageSoFar}), else what the call reserved (its input counted locally, its output cap or
     * {@code reserve-output}). Returns how many calls it finished.
     */
    public int finishInFlight() {
        int finished = 0;
        for (LlmCall call : inFlight.open()) {
            Usage usage = null;
            java.util.function.Supplier<Usage> soFar = call.usageSoFar();
            if (soFar != null) {
                try {
                    usage = soFar.get();
                } catch (RuntimeException e) {
                    usage = null; // the stream was being read on another thread: fall back to the reservation
                }
            }
            if (usage == null) {
                // counted, not the cheap bound a call far from its limit reserved (bytes, not tokens)
                Estimate reserved = estimate(call.request(), settings.reservations(), null);
                usage = new Usage(reserved.inputTokens(), reserved.outputTokens(), null, null, null, null, null,
                        List.of(), UsageSource.ESTIMATED);
            }
            if (!call.isFinished()) {
                call.fail(new InFlightAtShutdown(), usage);
                finished++;
            }
        }
        return finished;
    }

    /**
     * Shares the {@code global} and {@code mdc:} budgets with the other JVMs of a store from the next call on (set
     * once at start-up when {@code tokenguard.store} names one).
     */
    public void shareBudgets(SharedBudgets store) {
        shared = store;
    }

    /** The optional behaviour and the plugins' settings. */
    /** Switches governance on or off from the next call on (off: calls pass uncharged, as if ungoverned). */
    public void governing(boolean on) {
        governing = on;
    }

    public boolean governing() {
        return governing;
    }

    public Settings settings() {
        return settings;
    }

    /** Current time, for instrumentations that measure. */
    Instant now() {
        return clock.instant();
    }
}
