package dev.tokenguard.instrumentation.bedrock;

import dev.tokenguard.instrumentation.CallSiteFactory;
import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Layer;
import dev.tokenguard.instrumentation.Member;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.instrumentation.VersionRange;

import java.util.List;

import static dev.tokenguard.instrumentation.Member.method;

/**
 * Amazon Bedrock Runtime through the AWS SDK for Java 2.x ({@code software.amazon.awssdk:bedrockruntime}):
 * {@code converse} and {@code invokeModel} of the sync and async clients, {@code converseStream} and
 * {@code invokeModelWithResponseStream} of the async client, hooked on the SDK's own implementations
 * ({@code DefaultBedrockRuntimeClient}, {@code DefaultBedrockRuntimeAsyncClient}) that every builder returns.
 * One call there is one request (the SDK's own retries of a throttled or failed request go out again under
 * the same call, and only the answer that succeeds carries tokens). {@code countTokens} is not hooked: it
 * spends nothing.
 *
 * <p>A refused call throws {@code BudgetExhaustedException} from the method the app called, before anything
 * is signed or sent; for the async client too, at call time rather than as a failed future, as the other
 * plugins' async clients do, so that a refusal is never mistaken for a service error and retried.
 *
 * <p>Responses name no model: the call's model is the request's {@code modelId} (a model id, an inference
 * profile such as {@code us.anthropic...}, or an ARN). The SDK's HTTP clients (Apache HttpClient, Netty) are
 * not counted again by the raw-HTTP layer: the sync client sends on the calling thread, which is marked as
 * governed while the call runs, and Bedrock's {@code /model/{id}/...} paths are no API the raw-HTTP layer reads.
 */
public final class BedrockPlugin {
    static final String MODEL = "software.amazon.awssdk.services.bedrockruntime.model.";
    static final String SYNC = "software.amazon.awssdk.services.bedrockruntime.DefaultBedrockRuntimeClient";
    static final String ASYNC = "software.amazon.awssdk.services.bedrockruntime.DefaultBedrockRuntimeAsyncClient";
    static final String CONVERSE_HANDLER = MODEL + "ConverseStreamResponseHandler";
    static final String INVOKE_STREAM_HANDLER = MODEL + "InvokeModelWithResponseStreamResponseHandler";
    static final String SDK_PUBLISHER = "software.amazon.awssdk.core.async.SdkPublisher";

    /** The declaration. */
    public static final SdkPlugin DECLARATION = new SdkPlugin("aws-bedrock", "aws.bedrock",
            "software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeClient", new VersionRange("2.36.2", "3"),
            hooks(), reads());

    private BedrockPlugin() {
    }

    private static List<Hook> hooks() {
        CallSiteFactory async = new CallSites(true);
        return List.of(
                new Hook(SYNC, List.of("converse", "invokeModel"), 1, Layer.SDK, new CallSites(false)),
                new Hook(ASYNC, List.of("converse", "invokeModel"), 1, Layer.SDK, async),
                new Hook(ASYNC, List.of("converseStream", "invokeModelWithResponseStream"), 2, Layer.SDK,
                        Hook.Shape.REQUEST_AND_HANDLER, async));
    }

    private static List<Member> reads() {
        String core = "software.amazon.awssdk.core.";
        return List.of(
                method(MODEL + "ConverseRequest", "modelId", 0), method(MODEL + "ConverseRequest", "messages", 0),
                method(MODEL + "ConverseRequest", "system", 0), method(MODEL + "ConverseRequest", "inferenceConfig", 0),
                method(MODEL + "ConverseStreamRequest", "modelId", 0),
                method(MODEL + "ConverseStreamRequest", "messages", 0),
                method(MODEL + "ConverseStreamRequest", "system", 0),
                method(MODEL + "InvokeModelRequest", "modelId", 0), method(MODEL + "InvokeModelRequest", "body", 0),
                method(MODEL + "InvokeModelWithResponseStreamRequest", "modelId", 0),
                method(MODEL + "InvokeModelWithResponseStreamRequest", "body", 0),
                method(MODEL + "InferenceConfiguration", "maxTokens", 0),
                method(MODEL + "Message", "content", 0), method(MODEL + "ContentBlock", "text", 0),
                method(MODEL + "SystemContentBlock", "text", 0),
                method(MODEL + "ConverseResponse", "usage", 0), method(MODEL + "ConverseResponse", "output", 0),
                method(MODEL + "ConverseResponse", "stopReasonAsString", 0),
                method(MODEL + "ConverseOutput", "message", 0),
                method(MODEL + "TokenUsage", "inputTokens", 0), method(MODEL + "TokenUsage", "outputTokens", 0),
                method(MODEL + "TokenUsage", "cacheReadInputTokens", 0),
                method(MODEL + "TokenUsage", "cacheWriteInputTokens", 0),
                method(MODEL + "ConverseStreamMetadataEvent", "usage", 0),
                method(MODEL + "ContentBlockDeltaEvent", "delta", 0), method(MODEL + "ContentBlockDelta", "text", 0),
                method(MODEL + "MessageStopEvent", "stopReasonAsString", 0),
                method(MODEL + "PayloadPart", "bytes", 0),
                method(MODEL + "InvokeModelResponse", "body", 0),
                method(core + "SdkResponse", "sdkHttpResponse", 0),
                method("software.amazon.awssdk.http.SdkHttpHeaders", "headers", 0),
                method("software.amazon.awssdk.awscore.AwsResponse", "responseMetadata", 0),
                method("software.amazon.awssdk.awscore.AwsResponseMetadata", "requestId", 0),
                method(core + "BytesWrapper", "asByteArray", 0), method(core + "SdkBytes", "fromByteArray", 1),
                method(MODEL + "ConverseRequest", "toBuilder", 0), method(MODEL + "ConverseRequest$Builder", "system", 1),
                method(MODEL + "ConverseStreamRequest", "toBuilder", 0),
                method(MODEL + "ConverseStreamRequest$Builder", "system", 1),
                method(MODEL + "InvokeModelRequest", "toBuilder", 0), method(MODEL + "InvokeModelRequest$Builder", "body", 1),
                method(MODEL + "InvokeModelWithResponseStreamRequest", "toBuilder", 0),
                method(MODEL + "InvokeModelWithResponseStreamRequest$Builder", "body", 1),
                method(MODEL + "SystemContentBlock", "fromText", 1),
                method(core + "SdkServiceClientConfiguration", "endpointOverride", 0),
                method("software.amazon.awssdk.awscore.AwsServiceClientConfiguration", "region", 0),
                method(SYNC, "serviceClientConfiguration", 0), method(ASYNC, "serviceClientConfiguration", 0),
                method(CONVERSE_HANDLER, "onEventStream", 1), method(CONVERSE_HANDLER, "complete", 0),
                method(CONVERSE_HANDLER, "exceptionOccurred", 1),
                method(INVOKE_STREAM_HANDLER, "onEventStream", 1),
                method(SDK_PUBLISHER, "map", 1), method(SDK_PUBLISHER, "doAfterOnCancel", 1));
    }

    /** The call sites of the sync or the async client's methods. */
    private static final class CallSites implements CallSiteFactory {
        private final boolean async;

        CallSites(boolean async) {
            this.async = async;
        }

        @Override
        public CallSite create(String method, Governor governor) {
            return new BedrockCallSite(BedrockApi.of(method), async, governor);
        }
    }
}
