package dev.tokenguard.instrumentation.springai;

import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.LlmCall;
import dev.tokenguard.core.TokenEstimator;
import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;
import dev.tokenguard.instrumentation.Callbacks;
import dev.tokenguard.instrumentation.GovernedCall;
import dev.tokenguard.instrumentation.SdkObjects;
import dev.tokenguard.instrumentation.UnaskedStreamUsage;

import java.util.List;

/**
 * One governed request of a Spring AI 1.x API, from the advice to its charge. A blocking call
 * ({@code chatCompletionEntity}, {@code embeddings}) is charged when the method returns its
 * {@code ResponseEntity}, whose body Spring has read whole by then; a stream
 * ({@code chatCompletionStream}) is charged once per subscription, when that subscription completes,
 * fails or is cancelled (see {@link GovernedFlux}). An OpenAI stream whose request does not ask for
 * its usage is sent asking for it ({@code stream_options.include_usage}), and the usage-only chunk
 * that brings is hidden from the app, only where the endpoint is known to send no usage unasked
 * ({@link UnaskedStreamUsage}): to an endpoint not known yet, the request goes out as the app built
 * it and the stream teaches the endpoint's habit; to one that sends usage unasked, nothing is asked
 * or hidden.
 */
final class SpringAiCall implements GovernedCall {
    private static final String STREAM_OPTIONS =
            "org.springframework.ai.openai.api.OpenAiApi$ChatCompletionRequest$StreamOptions";

    private final SpringAiCallSite site;
    private final Object apiObject;
    private final LlmCall call;
    private volatile Object request;
    private volatile boolean hideUsageChunk;
    /** The endpoint as {@link UnaskedStreamUsage} names it, or null when unknown. */
    private final String endpoint;
    /** The stream went out unchanged to learn whether its endpoint sends usage unasked. */
    private volatile boolean probing;

    SpringAiCall(SpringAiCallSite site, Object apiObject, LlmCall call, Object request, boolean hideUsageChunk,
                 String endpoint) {
        this.site = site;
        this.apiObject = apiObject;
        this.call = call;
        this.request = request;
        this.hideUsageChunk = hideUsageChunk;
        this.endpoint = endpoint;
    }

    @Override
    public Object request(Object original) {
        Object adjusted = original;
        if (site.streaming() && site.api() == SpringAiApi.OPENAI_CHAT && !hideUsageChunk
                && !Boolean.TRUE.equals(SdkObjects.path(original, "streamOptions", "includeUsage"))) {
            try {
                switch (UnaskedStreamUsage.shared().plan(endpoint)) {
                    case ASK_AND_HIDE -> {
                        adjusted = withIncludeUsage(original);
                        hideUsageChunk = true;
                    }
                    case PROBE -> probing = true;
                    case LEAVE -> {
                        // the endpoint sends its usage unasked: the app's request goes out as it is
                    }
                }
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                AgentLog.failure(site.plugin() + ".stream-usage", e);
            }
        }
        request = adjusted;
        return adjusted;
    }

    /** {@code request.streamOptions(new StreamOptions(true))}: a copy of the record asking for the usage chunk. */
    private static Object withIncludeUsage(Object request) throws ReflectiveOperationException {
        Class<?> options = Class.forName(STREAM_OPTIONS, false, request.getClass().getClassLoader());
        Object include = options.getConstructor(Boolean.class).newInstance(Boolean.TRUE);
        return request.getClass().getMethod("streamOptions", options).invoke(request, include);
    }

    @Override
    public Object exit(Object returned, Throwable thrown) {
        if (thrown != null) {
            call.fail(thrown, Usage.UNKNOWN);
            return returned;
        }
        if (site.streaming()) {
            Object governed = GovernedFlux.govern(returned, this);
            if (governed == returned) {
                // not a Flux whose end this agent can watch: charged an estimate of its input now
                call.finish(estimate(null, "", null, null, List.of(), false));
            }
            return governed;
        }
        Object body = SdkObjects.get(returned, "getBody");
        SpringAiApi api = site.api();
        Usage usage = body == null ? null : api.usage(body);
        String text = body == null ? null : api.outputText(body);
        if (usage == null) {
            call.finish(estimate(null, text, null, null, List.of(), true));
        } else {
            call.finish(readable(usage, text));
        }
        return returned;
    }

    /**
     * A new call for another subscription to the same stream: the same request, sent again; the
     * {@code BudgetExhaustedException} refusing it; or null when it goes ungoverned.
     */
    Object again() {
        Object started = site.begin(apiObject, request, hideUsageChunk);
        if (started instanceof SpringAiCall next && probing) {
            next.probing = true; // the same unchanged request: it teaches as the first did
        }
        return started;
    }

    /** A new accumulator for one subscription to the stream this call returned. */
    SpringAiStream newStream() {
        return site.api().newStream(hideUsageChunk);
    }

    /** The subscription watched by {@code stream} ended: completed or cancelled (error null), or failed. */
    void ended(SpringAiStream stream, Throwable error) {
        if (probing) {
            // a stream that did not ask: a usage chunk in it means the endpoint sends usage unasked; one that ran to
            // its end after a finish reason without any means it sends usage only when asked
            UnaskedStreamUsage.shared().learn(endpoint, stream.usageSeen(),
                    error == null && stream.completed() && !stream.finishReasons().isEmpty());
        }
        Usage usage = stream.finalUsage();
        String text = stream.text();
        // a stream cut short (cancelled, failed) may end before its usage arrives: estimated, not reported
        usage = usage != null ? readable(usage, text)
                : estimate(stream.reportedInput(), text, stream.model(), stream.id(), stream.finishReasons(),
                        error == null && stream.completed() && !probing);
        if (error != null) {
            call.fail(error, usage);
        } else {
            call.finish(usage);
        }
    }

    String plugin() {
        return site.plugin();
    }

    /** The provider's usage when it can be read; otherwise a local estimate, the first such response reported. */
    private Usage readable(Usage usage, String text) {
        String problem = usage.problem(site.api().producesOutput());
        if (problem == null) {
            return usage;
        }
        return estimate(null, text, usage.responseModel(), usage.responseId(), usage.finishReasons(), true);
    }

    private Usage estimate(Long reportedInput, String output, String model, String id, List<String> reasons,
                           boolean report) {
        if (report) {
            AgentLog.failure("usage." + site.plugin(), "TokenGuard: " + site.plugin() + ": a response's usage could"
                    + " not be read; such calls are charged a local estimate, marked usage_source estimated");
        }
        String requestModel = call.request().requestModel();
        Long input = reportedInput;
        if (input == null) {
            String prompt = Callbacks.get(site.plugin() + ".prompt", () -> site.api().promptText(request), null);
            input = prompt == null ? null : TokenEstimator.estimate(requestModel, prompt);
        }
        Long out = !site.api().producesOutput() ? null
                : TokenEstimator.estimate(requestModel, output == null ? "" : output);
        return new Usage(input, out, null, null, null, model, id, reasons, UsageSource.ESTIMATED);
    }
}
