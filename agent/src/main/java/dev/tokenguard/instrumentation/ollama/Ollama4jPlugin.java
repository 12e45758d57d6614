package dev.tokenguard.instrumentation.ollama;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.CallSiteFactory;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Layer;
import dev.tokenguard.instrumentation.Member;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.instrumentation.VersionRange;
import dev.tokenguard.instrumentation.http.WireApi;

import java.util.List;

import static dev.tokenguard.instrumentation.Member.field;
import static dev.tokenguard.instrumentation.Member.method;

/**
 * ollama4j ({@code io.github.ollama4j:ollama4j}) from 1.1.2, the first release whose client is the
 * {@code Ollama} class (1.0.x and 1.1.0 have {@code OllamaAPI}, with other request types and signatures).
 *
 * <p>Every chat request, streamed or not, leaves through {@code OllamaChatEndpointCaller.callSync(request)}
 * (the streaming {@code call(request, handler)} sets the handler and calls it; {@code Ollama.chat} calls it once
 * per round of a tool-calling loop), every generate request through
 * {@code OllamaGenerateEndpointCaller.callSync(request)}, and an embeddings request through
 * {@code Ollama.embed(request)} itself. Those are the hooks where one physical request passes, before its body is
 * serialised or sent; the request is the SDK's own model object, written as the wire's JSON by the SDK's own
 * {@code ObjectMapper}. The callers hand each line of the response (the one JSON object, or each NDJSON line of a
 * stream) to {@code parseResponseAndAddToBuffer} before the app's stream handler sees it: that hook feeds the line
 * to the HTTP layer's Ollama usage reader, and the call is charged at the {@code "done": true} line with its
 * {@code prompt_eval_count} and {@code eval_count}. {@code Ollama.embed} parses its body itself; its
 * {@code OllamaEmbedResult} carries the model and {@code prompt_eval_count}.
 *
 * <p>{@code Ollama.chat} and {@code Ollama.generate} wrap whatever the request threw in their
 * {@code OllamaException}; their hooks only hand a refusal from inside back to the app as itself
 * ({@link RefusalUnwrapping}). The SDK sends with the JDK's {@code HttpClient} on the calling thread, which a
 * governed call marks, so the raw-HTTP layer stays out of these requests even when the server's URL is listed in
 * {@code tokenguard.http.endpoints}. ({@code Ollama.generateAsync} sends from a thread of its own and is left to
 * the raw-HTTP layer.)
 */
public final class Ollama4jPlugin {
    static final String PACKAGE = "io.github.ollama4j.";
    static final String OLLAMA = PACKAGE + "Ollama";
    static final String CHAT_CALLER = PACKAGE + "models.request.OllamaChatEndpointCaller";
    static final String GENERATE_CALLER = PACKAGE + "models.request.OllamaGenerateEndpointCaller";
    static final String ENDPOINT_CALLER = PACKAGE + "models.request.OllamaEndpointCaller";
    static final String EMBED_RESULT = PACKAGE + "models.embed.OllamaEmbedResult";
    static final String UTILS = PACKAGE + "utils.Utils";
    static final String PARSE_LINE = "parseResponseAndAddToBuffer";

    /** The declaration. */
    public static final SdkPlugin DECLARATION = new SdkPlugin("ollama4j", "ollama", OLLAMA,
            new VersionRange("1.1.2", "2"), List.of(
                    new Hook(CHAT_CALLER, List.of("callSync"), 1, Layer.SDK, CallSites.CHAT),
                    new Hook(GENERATE_CALLER, List.of("callSync"), 1, Layer.SDK, CallSites.GENERATE),
                    new Hook(OLLAMA, List.of("embed"), 1, Layer.SDK, CallSites.EMBED),
                    new Hook(CHAT_CALLER, List.of(PARSE_LINE), 3, Layer.SDK, CallSites.RESPONSE_LINE),
                    new Hook(GENERATE_CALLER, List.of(PARSE_LINE), 3, Layer.SDK, CallSites.RESPONSE_LINE),
                    new Hook(OLLAMA, List.of("chat", "generate"), 2, Layer.SDK, CallSites.REFUSAL_UNWRAPPING)),
            List.of(method(UTILS, "getObjectMapper", 0), method(ENDPOINT_CALLER, "getHost", 0), field(OLLAMA, "host"),
                    method(EMBED_RESULT, "getModel", 0), method(EMBED_RESULT, "getPromptEvalCount", 0)));

    private Ollama4jPlugin() {
    }

    /**
     * The hooks' call sites, each made on its first call (the call site classes load then, not with the
     * declaration).
     */
    private enum CallSites implements CallSiteFactory {
        CHAT, GENERATE, EMBED, RESPONSE_LINE, REFUSAL_UNWRAPPING;

        @Override
        public CallSite create(String method, Governor governor) {
            return switch (this) {
                case CHAT -> new OllamaCallSite(WireApi.OLLAMA_CHAT, governor);
                case GENERATE -> new OllamaCallSite(WireApi.OLLAMA_GENERATE, governor);
                case EMBED -> new OllamaCallSite(WireApi.OLLAMA_EMBED, governor);
                case RESPONSE_LINE -> new ResponseLineSite(method, governor);
                case REFUSAL_UNWRAPPING -> new RefusalUnwrapping(method, governor);
            };
        }
    }
}
