package dev.tokenguard.instrumentation.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.LlmCall;
import dev.tokenguard.core.TokenEstimator;
import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;
import dev.tokenguard.instrumentation.Callbacks;
import dev.tokenguard.instrumentation.GovernedCall;
import dev.tokenguard.instrumentation.SdkObjects;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One governed Bedrock Runtime call, from the advice to its charge. A sync call is charged when the method
 * returns; an async one when its future completes, before the app's future does; a stream when the SDK tells the
 * app's handler that it completed or failed (or, failing that, when its future completes), with the usage the
 * stream reported or, where it reported none, a local estimate marked so.
 */
final class BedrockCall implements GovernedCall {
    private final BedrockApi api;
    private final boolean async;
    private final LlmCall call;
    private volatile Object request;
    private final BedrockStream stream;

    BedrockCall(BedrockApi api, boolean async, LlmCall call, Object request) {
        this.api = api;
        this.async = async;
        this.call = call;
        this.request = request;
        this.stream = api.streaming ? new BedrockStream(api) : null;
    }

    private String model() {
        return call.request().requestModel();
    }

    private boolean producesOutput() {
        return !"embeddings".equals(call.request().operation());
    }

    @Override
    public Object request(Object request) {
        Object adjusted = request;
        if (call.notice() != null) {
            try {
                Object noticed = BedrockNotice.withNotice(api, request, call.notice());
                if (noticed != request) {
                    adjusted = noticed;
                    call.noticeInjected();
                }
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                AgentLog.failure("aws-bedrock.notice", e);
            }
        }
        if (call.capturesContent()) {
            call.prompt(BedrockRequests.promptText(api, adjusted));
        }
        this.request = adjusted;
        return adjusted;
    }

    @Override
    public Object argument(int index, Object handler) {
        if (index != 1 || stream == null || handler == null) {
            return handler;
        }
        String type = api == BedrockApi.CONVERSE_STREAM ? BedrockPlugin.CONVERSE_HANDLER
                : BedrockPlugin.INVOKE_STREAM_HANDLER;
        Object observed = ObservedStreamHandler.wrap(handler, type, stream, this::streamEnded);
        return observed == null ? handler : observed;
    }

    @Override
    public Object exit(Object returned, Throwable thrown) {
        if (thrown != null) {
            call.fail(thrown, stream == null ? Usage.UNKNOWN : null);
            return returned;
        }
        if (async && returned instanceof CompletableFuture<?> future) {
            return whenDone(future);
        }
        if (!async) {
            call.finish(usage(returned));
        }
        return returned;
    }

    private CompletableFuture<Object> whenDone(CompletableFuture<?> future) {
        CompletableFuture<Object> wrapped = new CompletableFuture<>();
        future.whenComplete((response, error) -> {
            if (stream != null) {
                Callbacks.run("bedrock.stream-end", () -> streamEnded(error));
            } else if (error != null) {
                Callbacks.run("bedrock.failed", () -> call.fail(error, Usage.UNKNOWN));
            } else {
                Callbacks.run("bedrock.response", () -> call.finish(usage(response)));
            }
            if (error != null) {
                wrapped.completeExceptionally(error);
            } else {
                wrapped.complete(response);
            }
        });
        wrapped.whenComplete((r, e) -> {
            if (wrapped.isCancelled()) {
                future.cancel(true);
            }
        });
        return wrapped;
    }

    /** The usage of a whole (not streamed) response: the provider's, or a local estimate when it has none. */
    private Usage usage(Object response) {
        String id = BedrockUsage.requestId(response);
        Usage usage;
        String text;
        if (api == BedrockApi.CONVERSE) {
            String stop = SdkObjects.text(response, "stopReasonAsString");
            List<String> reasons = stop == null ? List.of() : List.of(stop);
            usage = BedrockUsage.ofTokenUsage(SdkObjects.get(response, "usage"), model(), id, reasons);
            text = BedrockRequests.messageText(SdkObjects.path(response, "output", "message"));
        } else {
            JsonNode body = BedrockUsage.json(BedrockUsage.bytes(SdkObjects.get(response, "body")));
            String stop = body == null ? null : body.path("stop_reason").asText(null);
            usage = BedrockUsage.ofInvokeHeaders(response, model(), id, stop == null ? List.of() : List.of(stop));
            if (usage.outputTokens() == null && !producesOutput() && usage.inputTokens() != null) {
                usage = new Usage(usage.inputTokens(), 0L, null, null, null, model(), id, List.of(),
                        UsageSource.PROVIDER);
            }
            text = BedrockUsage.modelText(body);
        }
        if (call.capturesContent()) {
            call.completion(text);
        }
        return readable(usage, text, null);
    }

    /** The end of a stream: the handler completed ({@code error} null) or failed. Charges once. */
    void streamEnded(Throwable error) {
        if (call.isFinished()) {
            return;
        }
        BedrockStream s = stream;
        CharSequence text = s.text();
        if (call.capturesContent()) {
            call.completion(text.toString());
        }
        Usage usage = s.finalUsage(model(), null);
        usage = usage != null ? readable(usage, text, s.reportedInput())
                : estimate(text, s.reportedInput(), s.finishReasons());
        if (error != null) {
            call.fail(error, usage);
        } else {
            call.finish(usage);
        }
    }

    /**
     * The provider's usage when it can be read; otherwise a local estimate, with the first such response
     * reported once.
     */
    private Usage readable(Usage usage, CharSequence text, Long reportedInput) {
        String problem = usage.problem(producesOutput());
        if (problem == null) {
            return usage;
        }
        AgentLog.failure("usage.aws-bedrock", "TokenGuard: aws-bedrock: a response's usage could not be read ("
                + problem + "); such calls are charged a local estimate, marked usage_source estimated");
        return estimate(text, reportedInput, usage.finishReasons());
    }

    /** The request's input tokens (or what the provider already reported of them) and the output text's tokens. */
    private Usage estimate(CharSequence output, Long reportedInput, List<String> reasons) {
        Long input = reportedInput != null ? reportedInput
                : TokenEstimator.estimate(model(), BedrockRequests.promptText(api, request));
        Long out = !producesOutput() ? null : TokenEstimator.estimate(model(), output == null ? "" : output);
        return new Usage(input, out, null, null, null, model(), null, reasons, UsageSource.ESTIMATED);
    }

    static String utf8(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }
}
