package dev.tokenguard.instrumentation.openai;

import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Layer;
import dev.tokenguard.instrumentation.Member;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.instrumentation.VersionRange;
import dev.tokenguard.instrumentation.stainless.StainlessApi;
import dev.tokenguard.instrumentation.stainless.StainlessSdk;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static dev.tokenguard.instrumentation.Member.method;

/**
 * openai-java 4.x: chat completions, Responses and embeddings, blocking and async, plain and
 * streaming, at the {@code *ServiceImpl$WithRawResponseImpl} layer, where exactly one physical
 * request happens whichever HTTP client the app configured and whether or not it uses raw responses.
 */
public final class OpenAiPlugin {
    static final StainlessSdk SDK = new StainlessSdk("openai-java", "com.openai.core", new Provider());

    private static final String SERVICES = "com.openai.services.";
    private static final String CHAT = "com.openai.models.chat.completions.";
    private static final String RESPONSES = "com.openai.models.responses.";
    private static final String EMBEDDINGS = "com.openai.models.embeddings.";

    /** The declaration. */
    public static final SdkPlugin DECLARATION = new SdkPlugin("openai-java", "openai", "com.openai.client.OpenAIClient",
            new VersionRange("4.0.0", "5"), hooks(), reads());

    private OpenAiPlugin() {
    }

    private static List<Hook> hooks() {
        List<Hook> hooks = new ArrayList<>();
        for (boolean async : new boolean[] {false, true}) {
            hooks.add(hook("chat.ChatCompletionService", async, OpenAiApis.CHAT, "create", "createStreaming"));
            hooks.add(hook("ResponseService", async, OpenAiApis.RESPONSES, "create", "createStreaming"));
            hooks.add(hook("EmbeddingService", async, OpenAiApis.EMBEDDINGS, "create"));
        }
        return hooks;
    }

    /** e.g. {@code com.openai.services.blocking.chat.ChatCompletionServiceImpl$WithRawResponseImpl}. */
    private static Hook hook(String service, boolean async, StainlessApi api, String... methods) {
        String type = SERVICES + (async ? "async." : "blocking.") + service + (async ? "AsyncImpl" : "Impl")
                + "$WithRawResponseImpl";
        return new Hook(type, List.of(methods), 2, Layer.SDK, SDK.callSites(api, async));
    }

    private static List<Member> reads() {
        String chatParams = CHAT + "ChatCompletionCreateParams";
        String options = OpenAiRequests.STREAM_OPTIONS;
        String usage = "com.openai.models.completions.CompletionUsage";
        String responseParams = RESPONSES + "ResponseCreateParams";
        String responseUsage = RESPONSES + "ResponseUsage";
        return List.of(
                method(SDK.httpResponseFor(), "parse", 0), method(SDK.streamResponse(), "stream", 0),
                method(SDK.objectMappers(), "jsonMapper", 0), method("com.openai.core.ClientOptions", "baseUrl", 0),
                method(chatParams, "model", 0), method(chatParams, "_body", 0), method(chatParams, "toBuilder", 0),
                method(chatParams, "streamOptions", 0), method(chatParams, "messages", 0),
                method(chatParams + "$Builder", "streamOptions", 1), method(chatParams + "$Builder", "addSystemMessage", 1),
                method(chatParams + "$Builder", "addDeveloperMessage", 1), method(chatParams + "$Builder", "build", 0),
                method(CHAT + "ChatCompletionMessageParam", "isDeveloper", 0),
                method(options, "builder", 0), method(options, "toBuilder", 0), method(options, "includeUsage", 0),
                method(options + "$Builder", "includeUsage", 1), method(options + "$Builder", "build", 0),
                method(CHAT + "ChatCompletion", "usage", 0), method(CHAT + "ChatCompletion", "model", 0),
                method(CHAT + "ChatCompletion", "id", 0), method(CHAT + "ChatCompletion", "choices", 0),
                method(CHAT + "ChatCompletion$Choice", "finishReason", 0), method(CHAT + "ChatCompletion$Choice", "message", 0),
                method(CHAT + "ChatCompletionMessage", "content", 0),
                method(CHAT + "ChatCompletionChunk", "usage", 0), method(CHAT + "ChatCompletionChunk", "choices", 0),
                method(CHAT + "ChatCompletionChunk$Choice", "delta", 0),
                method(CHAT + "ChatCompletionChunk$Choice", "finishReason", 0),
                method(CHAT + "ChatCompletionChunk$Choice$Delta", "content", 0),
                method(usage, "promptTokens", 0), method(usage, "completionTokens", 0),
                method(usage, "promptTokensDetails", 0), method(usage, "completionTokensDetails", 0),
                method(usage + "$PromptTokensDetails", "cachedTokens", 0),
                method(usage + "$CompletionTokensDetails", "reasoningTokens", 0),
                method(responseParams, "model", 0), method(responseParams, "_body", 0),
                method(responseParams, "toBuilder", 0), method(responseParams, "instructions", 0),
                method(responseParams + "$Builder", "instructions", 1), method(responseParams + "$Builder", "build", 0),
                method(RESPONSES + "Response", "usage", 0), method(RESPONSES + "Response", "status", 0),
                method(RESPONSES + "Response", "output", 0),
                method(responseUsage, "inputTokens", 0), method(responseUsage, "outputTokens", 0),
                method(responseUsage + "$InputTokensDetails", "cachedTokens", 0),
                method(responseUsage + "$OutputTokensDetails", "reasoningTokens", 0),
                method(RESPONSES + "ResponseStreamEvent", "completed", 0),
                method(RESPONSES + "ResponseStreamEvent", "outputTextDelta", 0),
                method(EMBEDDINGS + "CreateEmbeddingResponse", "usage", 0),
                method(EMBEDDINGS + "CreateEmbeddingResponse$Usage", "promptTokens", 0),
                method(EMBEDDINGS + "EmbeddingCreateParams", "model", 0));
    }

    /** {@link OpenAiRequests#provider}. */
    private static final class Provider implements Function<URI, String> {
        @Override
        public String apply(URI baseUrl) {
            return OpenAiRequests.provider(baseUrl);
        }
    }
}
