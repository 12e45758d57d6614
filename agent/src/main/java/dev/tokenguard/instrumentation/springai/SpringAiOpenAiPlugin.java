package dev.tokenguard.instrumentation.springai;

import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Layer;
import dev.tokenguard.instrumentation.Member;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.instrumentation.VersionRange;

import java.util.ArrayList;
import java.util.List;

import static dev.tokenguard.instrumentation.Member.method;

/**
 * Spring AI 1.x's own OpenAI client, {@code org.springframework.ai.openai.api.OpenAiApi} (Spring's
 * RestClient for blocking calls, WebClient for streams; under Spring Boot usually on Reactor Netty,
 * which no HTTP-layer plugin watches): chat completions, blocking and streaming, and embeddings, at
 * the framework layer. Each hooked method makes exactly one physical request per call (a stream: per
 * subscription); the one-argument chat overloads delegate to the hooked two-argument ones, and
 * Spring AI's retries call the hooked method again, so each retry is a request of its own.
 */
public final class SpringAiOpenAiPlugin {
    static final String NAME = "spring-ai-openai";
    static final String API = "org.springframework.ai.openai.api.OpenAiApi";

    /** The declaration. */
    public static final SdkPlugin DECLARATION = new SdkPlugin(NAME, "openai", API, new VersionRange("1.1.0", "2"),
            List.of(new Hook(API, List.of("chatCompletionEntity", "chatCompletionStream"), 2, Layer.FRAMEWORK,
                            new SpringAiCallSites(NAME, "openai", SpringAiApi.OPENAI_CHAT)),
                    new Hook(API, List.of("embeddings"), 1, Layer.FRAMEWORK,
                            new SpringAiCallSites(NAME, "openai", SpringAiApi.OPENAI_EMBEDDINGS))),
            reads());

    private SpringAiOpenAiPlugin() {
    }

    private static List<Member> reads() {
        String request = API + "$ChatCompletionRequest";
        String usage = API + "$Usage";
        List<Member> reads = new ArrayList<>(List.of(
                Member.field(API, SpringAiCallSite.BASE_URL_FIELD),
                method(request, "model", 0), method(request, "messages", 0), method(request, "streamOptions", 0),
                method(request, "streamOptions", 1), method(request + "$StreamOptions", "includeUsage", 0),
                method(API + "$ChatCompletionMessage", "content", 0),
                method(API + "$ChatCompletion", "usage", 0), method(API + "$ChatCompletion", "model", 0),
                method(API + "$ChatCompletion", "id", 0), method(API + "$ChatCompletion", "choices", 0),
                method(API + "$ChatCompletion$Choice", "finishReason", 0),
                method(API + "$ChatCompletion$Choice", "message", 0),
                method(API + "$ChatCompletionChunk", "usage", 0), method(API + "$ChatCompletionChunk", "choices", 0),
                method(API + "$ChatCompletionChunk", "model", 0), method(API + "$ChatCompletionChunk", "id", 0),
                method(API + "$ChatCompletionChunk$ChunkChoice", "delta", 0),
                method(API + "$ChatCompletionChunk$ChunkChoice", "finishReason", 0),
                method(usage, "promptTokens", 0), method(usage, "completionTokens", 0),
                method(usage, "promptTokensDetails", 0), method(usage, "completionTokenDetails", 0),
                method(usage + "$PromptTokensDetails", "cachedTokens", 0),
                method(usage + "$CompletionTokenDetails", "reasoningTokens", 0),
                method(API + "$EmbeddingRequest", "model", 0), method(API + "$EmbeddingRequest", "input", 0),
                method(API + "$EmbeddingList", "usage", 0), method(API + "$EmbeddingList", "model", 0)));
        reads.addAll(SpringAiWeb.READS);
        return reads;
    }
}
