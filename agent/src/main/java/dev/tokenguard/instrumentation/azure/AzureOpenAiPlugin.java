package dev.tokenguard.instrumentation.azure;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.CallSiteFactory;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Layer;
import dev.tokenguard.instrumentation.Member;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.instrumentation.VersionRange;
import dev.tokenguard.instrumentation.http.WireApi;

import java.util.ArrayList;
import java.util.List;

import static dev.tokenguard.instrumentation.Member.method;

/**
 * The Azure OpenAI client library for Java ({@code com.azure:azure-ai-openai}, every 1.0.0 beta). Every public
 * method of {@code OpenAIClient} and {@code OpenAIAsyncClient} that reaches chat completions or embeddings (plain,
 * {@code WithResponse}, streamed, protocol) ends in one protocol method of the generated implementation,
 * {@code OpenAIClientImpl} for Azure OpenAI or {@code NonAzureOpenAIClientImpl} for OpenAI itself, which takes the
 * deployment (or model) name and the JSON body as the SDK will send it, and returns the response body unparsed.
 * That is where exactly one request passes, before anything is built or sent, and it is hooked there, for the
 * blocking and the async variant.
 *
 * <p>Since the body is the wire's own JSON, the request and the response go through the HTTP layer's lifecycle
 * ({@code HttpLlmCall}): a chat stream to Azure's own hosts (or OpenAI's) asks for
 * {@code stream_options.include_usage} and the usage-only chunk is hidden from the SDK's event parser; to any other
 * endpoint (a gateway) the first such stream goes out as the app built it and shows whether that endpoint sends its
 * usage unasked ({@code UnaskedStreamUsage}). The async variant returns a lazy {@code Mono}: the budget is checked, and
 * a refusal thrown, when the app calls the client method (so the refusal comes from the method the app called,
 * on the app's thread and in its budget scope, as for the blocking client), and the call is charged when the
 * response body ends.
 */
public final class AzureOpenAiPlugin {
    static final String IMPLEMENTATION = "com.azure.ai.openai.implementation.";
    static final String AZURE_IMPL = IMPLEMENTATION + "OpenAIClientImpl";
    static final String OPENAI_IMPL = IMPLEMENTATION + "NonAzureOpenAIClientImpl";

    /** The declaration. */
    public static final SdkPlugin DECLARATION = new SdkPlugin("azure-ai-openai", "azure.ai.openai",
            "com.azure.ai.openai.OpenAIClient", new VersionRange("1.0.0-beta.1", "1.0.0"), hooks(), reads());

    private AzureOpenAiPlugin() {
    }

    private static List<Hook> hooks() {
        List<Hook> hooks = new ArrayList<>();
        for (String type : new String[] {AZURE_IMPL, OPENAI_IMPL}) {
            boolean azure = type.equals(AZURE_IMPL);
            hooks.add(new Hook(type, List.of("getChatCompletionsWithResponse", "getChatCompletionsWithResponseAsync",
                    "getEmbeddingsWithResponse", "getEmbeddingsWithResponseAsync"), 3, Layer.SDK,
                    Hook.Shape.ARGUMENTS, new CallSites(azure)));
        }
        return hooks;
    }

    private static List<Member> reads() {
        String binaryData = AzureCore.BINARY_DATA;
        String flux = AzureCore.FLUX;
        String mono = AzureCore.MONO;
        return List.of(method(AZURE_IMPL, "getEndpoint", 0),
                method(binaryData, "toBytes", 0), method(binaryData, "isReplayable", 0),
                method(binaryData, "toFluxByteBuffer", 0), method(binaryData, "fromBytes", 1),
                method(binaryData, "fromFlux", 3),
                method(AzureCore.RESPONSE, "getValue", 0), method(AzureCore.RESPONSE, "getStatusCode", 0),
                method(flux, "map", 1), method(flux, "filter", 1), method(flux, "concatWith", 1),
                method(flux, "doOnComplete", 1), method(flux, "doOnError", 1), method(flux, "doOnCancel", 1),
                method(mono, "fromSupplier", 1), method(mono, "map", 1), method(mono, "doOnError", 1),
                method(mono, "doOnCancel", 1), method(mono, "block", 0));
    }

    /** The call sites of one client implementation's methods: Azure OpenAI's or OpenAI's. */
    private static final class CallSites implements CallSiteFactory {
        private final boolean azure;

        CallSites(boolean azure) {
            this.azure = azure;
        }

        @Override
        public CallSite create(String method, Governor governor) {
            return new AzureOpenAiCallSite(azure,
                    method.startsWith("getEmbeddings") ? WireApi.OPENAI_EMBEDDINGS : WireApi.OPENAI_CHAT,
                    method.endsWith("Async"), governor);
        }
    }
}
