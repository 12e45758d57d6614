package dev.tokenguard.instrumentation.openai;

import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.LlmCall;
import dev.tokenguard.core.TokenEstimator;
import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;
import dev.tokenguard.instrumentation.GovernedCall;
import dev.tokenguard.instrumentation.StreamObserver;
import dev.tokenguard.instrumentation.stainless.ResponseListener;
import dev.tokenguard.instrumentation.stainless.StainlessResponses;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One governed openai-java request. The raw response it returns is wrapped so that the call is
 * charged when the response is parsed (which the SDK's non-raw layer does before returning to the
 * app); a stream is charged once, when it ends or is closed, with the provider's final usage or,
 * when the stream ended without one, a local estimate.
 */
final class OpenAiCall implements GovernedCall, ResponseListener, StreamObserver {
    static final String HTTP_RESPONSE_FOR = "com.openai.core.http.HttpResponseFor";
    static final String STREAM_RESPONSE = "com.openai.core.http.StreamResponse";

    private final OpenAiSite site;
    private final LlmCall call;
    private volatile Object params;
    /** The agent added include_usage: the usage-only chunk is not the app's to see. */
    private volatile boolean hideUsageChunk;

    // stream state, written by the consuming thread
    private volatile Usage finalUsage;
    private String streamModel;
    private String streamId;
    private final List<String> finishReasons = new ArrayList<>(1);
    private StringBuilder streamedText;

    OpenAiCall(OpenAiSite site, LlmCall call, Object params) {
        this.site = site;
        this.call = call;
        this.params = params;
    }

    @Override
    public Object request(Object request) {
        Object adjusted = request;
        if (site.api == OpenAiSite.Api.CHAT && site.streaming && !OpenAiRequests.includesUsage(request)) {
            try {
                adjusted = OpenAiRequests.withIncludeUsage(adjusted);
                hideUsageChunk = true;
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                AgentLog.failure("openai.include_usage", e);
            }
        }
        if (call.notice() != null) {
            try {
                adjusted = OpenAiRequests.withNotice(adjusted, site.api, call.notice());
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                AgentLog.failure("openai.notice", e);
            }
        }
        if (call.capturesContent()) {
            call.prompt(OpenAiRequests.promptText(adjusted));
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
        if (site.async && returned instanceof CompletableFuture<?> future) {
            return whenResponds(future);
        }
        return StainlessResponses.wrapResponse(returned, HTTP_RESPONSE_FOR, this);
    }

    private CompletableFuture<Object> whenResponds(CompletableFuture<?> future) {
        CompletableFuture<Object> wrapped = new CompletableFuture<>();
        future.whenComplete((response, error) -> {
            if (error != null) {
                call.fail(error, Usage.UNKNOWN);
                wrapped.completeExceptionally(error);
            } else {
                Object result = response;
                try {
                    result = StainlessResponses.wrapResponse(response, HTTP_RESPONSE_FOR, this);
                } catch (RuntimeException e) {
                    AgentLog.failure("openai.async", e);
                }
                wrapped.complete(result);
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
        if (site.streaming) {
            return StainlessResponses.wrapStream(value, STREAM_RESPONSE, this);
        }
        if (call.capturesContent()) {
            call.completion(switch (site.api) {
                case CHAT -> OpenAiUsage.completionText(value);
                case RESPONSES -> OpenAiUsage.responseText(value);
                case EMBEDDINGS -> null;
            });
        }
        call.finish(switch (site.api) {
            case CHAT -> OpenAiUsage.ofChatCompletion(value);
            case RESPONSES -> OpenAiUsage.ofResponse(value);
            case EMBEDDINGS -> OpenAiUsage.ofEmbeddings(value);
        });
        return value;
    }

    @Override
    public void parseFailed(Throwable error) {
        call.fail(error, Usage.UNKNOWN);
    }

    @Override
    public void closedUnparsed() {
        call.finish(estimate(null));
    }

    @Override
    public boolean onElement(Object element) {
        if (site.api == OpenAiSite.Api.CHAT) {
            return onChatChunk(element);
        }
        Object finalResponse = OpenAiUsage.finalResponseOf(element);
        if (finalResponse != null) {
            finalUsage = OpenAiUsage.ofResponse(finalResponse);
        } else {
            appendText(OpenAiUsage.eventText(element));
        }
        return true;
    }

    private boolean onChatChunk(Object chunk) {
        if (streamModel == null) {
            streamModel = dev.tokenguard.instrumentation.SdkObjects.text(chunk, "model");
            streamId = dev.tokenguard.instrumentation.SdkObjects.text(chunk, "id");
        }
        finishReasons.addAll(OpenAiUsage.chatFinishReasons(chunk));
        if (OpenAiUsage.hasUsage(chunk)) {
            Usage u = OpenAiUsage.ofChatCompletion(chunk);
            finalUsage = new Usage(u.inputTokens(), u.outputTokens(), u.cacheReadTokens(), u.cacheWriteTokens(),
                    u.reasoningTokens(), u.responseModel(), u.responseId(), List.copyOf(finishReasons),
                    UsageSource.PROVIDER);
            boolean usageOnly = OpenAiUsage.chunkText(chunk) == null
                    && dev.tokenguard.instrumentation.SdkObjects.get(chunk, "choices") instanceof List<?> l
                    && l.isEmpty();
            return !(hideUsageChunk && usageOnly);
        }
        appendText(OpenAiUsage.chunkText(chunk));
        return true;
    }

    private void appendText(String text) {
        if (text != null) {
            if (streamedText == null) {
                streamedText = new StringBuilder();
            }
            streamedText.append(text);
        }
    }

    @Override
    public void onEnd(Throwable error) {
        if (call.capturesContent() && streamedText != null) {
            call.completion(streamedText.toString());
        }
        Usage usage = finalUsage != null ? finalUsage : estimate(streamedText);
        if (error != null) {
            call.fail(error, usage);
        } else {
            call.finish(usage);
        }
    }

    /** A local estimate: the request's input tokens, and the tokens of the output text seen so far. */
    private Usage estimate(CharSequence output) {
        String model = call.request().requestModel();
        Long input = OpenAiRequests.estimateInputTokens(params, model);
        Long out = output == null ? (site.streaming ? 0L : null) : TokenEstimator.estimate(model, output);
        return new Usage(input, out, null, null, null, streamModel, streamId, List.copyOf(finishReasons),
                UsageSource.ESTIMATED);
    }
}
