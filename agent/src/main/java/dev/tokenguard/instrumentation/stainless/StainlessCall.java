package dev.tokenguard.instrumentation.stainless;

import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.LlmCall;
import dev.tokenguard.core.TokenEstimator;
import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;
import dev.tokenguard.instrumentation.Callbacks;
import dev.tokenguard.instrumentation.GovernedCall;
import dev.tokenguard.instrumentation.SdkObjects;
import dev.tokenguard.instrumentation.StreamObserver;
import dev.tokenguard.instrumentation.UnaskedStreamUsage;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One governed request of a Stainless SDK, from the advice to its charge. The raw response the
 * method returns is wrapped so that the call is charged when the response is parsed (which the
 * SDK's non-raw layer does before returning to the app); a stream is charged once, when it ends or
 * is closed, with the provider's final usage. A response whose usage cannot be read is charged a
 * local estimate, marked so, and the first such response per SDK is reported.
 */
final class StainlessCall implements GovernedCall, ResponseListener, StreamObserver {
    private final StainlessSite site;
    private final LlmCall call;
    private volatile Object params;
    private volatile boolean hideUsageElement;
    private volatile StreamAccumulator stream;
    /** The client's base URL as {@link UnaskedStreamUsage} names endpoints, or null when unknown. */
    private final String endpoint;
    /** The stream went out unchanged to learn whether its endpoint sends usage unasked. */
    private volatile boolean probing;
    private volatile boolean exhausted;

    StainlessCall(StainlessSite site, LlmCall call, Object params, String endpoint) {
        this.site = site;
        this.call = call;
        this.params = params;
        this.endpoint = endpoint;
    }

    private StainlessApi api() {
        return site.api();
    }

    @Override
    public Object request(Object request) {
        Object adjusted = request;
        if (site.streaming()) {
            try {
                Object asking = api().askForStreamUsage(adjusted);
                if (asking != null) {
                    switch (UnaskedStreamUsage.shared().plan(endpoint)) {
                        case ASK_AND_HIDE -> {
                            adjusted = asking;
                            hideUsageElement = true;
                        }
                        case PROBE -> probing = true;
                        case LEAVE -> {
                            // the server sends its usage unasked: the app's request goes out as it is
                        }
                    }
                }
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                AgentLog.failure(site.sdk().name() + ".stream-usage", e);
            }
        }
        if (call.notice() != null) {
            try {
                Object noticed = api().withNotice(adjusted, call.notice());
                if (noticed != adjusted) {
                    adjusted = noticed;
                    call.noticeInjected();
                }
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                AgentLog.failure(site.sdk().name() + ".notice", e);
            }
        }
        if (call.capturesContent()) {
            call.prompt(StainlessRequests.promptText(site.sdk(), adjusted, api().promptFields()));
        }
        params = adjusted;
        return adjusted;
    }

    @Override
    public Object exit(Object returned, Throwable thrown) {
        if (thrown != null) {
            call.fail(thrown, Usage.UNKNOWN);
            return returned;
        }
        if (site.async() && returned instanceof CompletableFuture<?> future) {
            return whenResponds(future);
        }
        return StainlessResponses.wrapResponse(returned, site.sdk().httpResponseFor(), this);
    }

    private CompletableFuture<Object> whenResponds(CompletableFuture<?> future) {
        CompletableFuture<Object> wrapped = new CompletableFuture<>();
        future.whenComplete((response, error) -> {
            if (error != null) {
                Callbacks.run("async.failed", () -> call.fail(error, Usage.UNKNOWN));
                wrapped.completeExceptionally(error);
            } else {
                wrapped.complete(Callbacks.get("async.response",
                        () -> StainlessResponses.wrapResponse(response, site.sdk().httpResponseFor(), this),
                        response));
            }
        });
        wrapped.whenComplete((r, e) -> {
            if (wrapped.isCancelled()) {
                future.cancel(true);
            }
        });
        return wrapped;
    }

    @Override
    public Object parsed(Object value) {
        if (site.streaming()) {
            stream = api().newStream(hideUsageElement);
            call.usageSoFar(this::usageSoFar);
            return StainlessResponses.wrapStream(value, site.sdk().streamResponse(), this);
        }
        Usage usage = api().usage(value);
        boolean unreadable = usage.problem(api().producesOutput()) != null;
        String text = call.capturesContent() || unreadable ? api().completionText(value) : null;
        if (call.capturesContent()) {
            call.completion(text);
        }
        call.finish(readable(usage, text, List.of()));
        return value;
    }

    /**
     * An error status cost nothing: the SDK's error handler throws its service exception, which carries the
     * status code. Any other failure (a body cut off, not JSON, too large to read) comes after the provider
     * answered, so it generated, and billed, the answer: the call is charged a local estimate.
     */
    @Override
    public void parseFailed(Throwable error) {
        boolean errorStatus = SdkObjects.number(error, "statusCode") != null;
        call.fail(error, errorStatus ? Usage.UNKNOWN : estimate(null, null, null, null, List.of()));
    }

    @Override
    public void closedUnparsed() {
        call.finish(estimate(null, null, null, null, List.of()));
    }

    @Override
    public boolean onElement(Object element) {
        return stream.onElement(element);
    }

    @Override
    public void onExhausted() {
        exhausted = true;
    }

    @Override
    public void onEnd(Throwable error) {
        StreamAccumulator s = stream;
        if (probing) {
            UnaskedStreamUsage.shared().learn(endpoint, s.usageSeen(),
                    error == null && exhausted && !s.finishReasons().isEmpty());
        }
        CharSequence text = s.text();
        if (call.capturesContent() && text != null) {
            call.completion(text.toString());
        }
        Usage usage;
        if (s.finalUsage() != null) {
            usage = readable(s.finalUsage(), text, s.finishReasons());
        } else {
            Usage partial = s.partialUsage();
            usage = estimate(partial, text == null ? "" : text, s.model(), s.id(), s.finishReasons());
        }
        if (error != null) {
            call.fail(error, usage);
        } else {
            call.finish(usage);
        }
    }

    /**
     * A stream's usage as far as it went, for a JVM that shuts down while the stream is being read: the provider's
     * final usage if it came and can be read, else a local estimate of the request and the text streamed so far.
     */
    private Usage usageSoFar() {
        StreamAccumulator s = stream;
        Usage last = s.finalUsage();
        if (last != null && last.problem(api().producesOutput()) == null) {
            return last;
        }
        CharSequence text = s.text();
        return estimate(s.partialUsage(), text == null ? "" : text.toString(), s.model(), s.id(),
                s.finishReasons());
    }

    /**
     * The provider's usage when it can be read; otherwise (no usage, renamed fields, negative or
     * overflowing counts) a local estimate, with the first such response of the SDK reported.
     */
    private Usage readable(Usage usage, CharSequence text, List<String> streamReasons) {
        String problem = usage.problem(api().producesOutput());
        if (problem == null) {
            return usage;
        }
        AgentLog.failure("usage." + site.sdk().name(), "TokenGuard: " + site.sdk().name() + ": a response's usage"
                + " could not be read (" + problem + "); such calls are charged a local estimate, marked"
                + " usage_source estimated");
        List<String> reasons = usage.finishReasons().isEmpty() ? streamReasons : usage.finishReasons();
        return estimate(null, text, usage.responseModel(), usage.responseId(), reasons);
    }

    /**
     * A local estimate: the request's input tokens (or what the provider already reported of them),
     * and the tokens of the output text seen.
     */
    private Usage estimate(Usage partial, CharSequence output, String model, String id, List<String> reasons) {
        String requestModel = call.request().requestModel();
        Long input = partial != null && partial.inputTokens() != null ? partial.inputTokens()
                : StainlessRequests.estimateInputTokens(site.sdk(), params, api().promptFields(), requestModel);
        // no output text: a stream produced none yet (0), a plain response's is unknown (null); written out, as a
        // conditional expression mixing long and null would unbox the null
        Long out = null;
        if (api().producesOutput()) {
            if (output != null) {
                out = TokenEstimator.estimate(requestModel, output);
            } else if (site.streaming()) {
                out = 0L;
            }
        }
        return new Usage(input, out, partial == null ? null : partial.cacheReadTokens(),
                partial == null ? null : partial.cacheWriteTokens(), null, model, id, reasons,
                UsageSource.ESTIMATED);
    }
}
