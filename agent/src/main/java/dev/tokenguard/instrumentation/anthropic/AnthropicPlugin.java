package dev.tokenguard.instrumentation.anthropic;

import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Layer;
import dev.tokenguard.instrumentation.Member;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.instrumentation.VersionRange;
import dev.tokenguard.instrumentation.stainless.StainlessSdk;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static dev.tokenguard.instrumentation.Member.method;

/**
 * anthropic-java 2.x and 3.x: {@code messages()} and {@code beta().messages()}, create and
 * createStreaming, blocking and async, at the {@code MessageService*Impl$WithRawResponseImpl} layer
 * where exactly one physical request happens (the beta tool runner's every request passes there).
 * {@code countTokens} is not hooked: it spends nothing.
 */
public final class AnthropicPlugin {
    static final StainlessSdk SDK = new StainlessSdk("anthropic-java", "com.anthropic.core", new Provider());

    private static final String MESSAGES = "com.anthropic.models.messages.";
    private static final String BETA = "com.anthropic.models.beta.messages.";

    /** The declaration. */
    public static final SdkPlugin DECLARATION = new SdkPlugin("anthropic-java", "anthropic",
            "com.anthropic.client.AnthropicClient", new VersionRange("2.0.0", "4"), hooks(), reads());

    private AnthropicPlugin() {
    }

    private static List<Hook> hooks() {
        List<Hook> hooks = new ArrayList<>();
        for (boolean async : new boolean[] {false, true}) {
            for (String area : new String[] {"", "beta."}) {
                String type = "com.anthropic.services." + (async ? "async." : "blocking.") + area
                        + (async ? "MessageServiceAsyncImpl" : "MessageServiceImpl") + "$WithRawResponseImpl";
                hooks.add(new Hook(type, List.of("create", "createStreaming"), 2, Layer.SDK,
                        SDK.callSites(AnthropicMessages.INSTANCE, async)));
            }
        }
        return hooks;
    }

    private static List<Member> reads() {
        List<Member> reads = new ArrayList<>(List.of(
                method(SDK.httpResponseFor(), "parse", 0), method(SDK.streamResponse(), "stream", 0),
                method(SDK.objectMappers(), "jsonMapper", 0),
                method(MESSAGES + "Usage", "inputTokens", 0), method(MESSAGES + "Usage", "outputTokens", 0),
                method(MESSAGES + "Usage", "cacheReadInputTokens", 0),
                method(MESSAGES + "Usage", "cacheCreationInputTokens", 0),
                method(MESSAGES + "MessageDeltaUsage", "outputTokens", 0),
                method(MESSAGES + "RawMessageStartEvent", "message", 0),
                method(MESSAGES + "RawMessageDeltaEvent", "usage", 0),
                method(MESSAGES + "RawMessageDeltaEvent", "delta", 0),
                method(MESSAGES + "RawMessageDeltaEvent$Delta", "stopReason", 0),
                method(MESSAGES + "RawContentBlockDeltaEvent", "delta", 0),
                method(MESSAGES + "RawContentBlockDelta", "text", 0), method(MESSAGES + "TextDelta", "text", 0),
                method(MESSAGES + "ContentBlock", "text", 0), method(MESSAGES + "TextBlock", "text", 0),
                method(MESSAGES + "TextBlockParam", "builder", 0),
                method(MESSAGES + "TextBlockParam$Builder", "text", 1),
                method(BETA + "BetaUsage", "inputTokens", 0), method(BETA + "BetaUsage", "outputTokens", 0),
                method(BETA + "BetaMessageDeltaUsage", "outputTokens", 0),
                method(BETA + "BetaTextBlockParam", "builder", 0)));
        for (String package_ : new String[] {MESSAGES, BETA}) {
            String params = package_ + "MessageCreateParams";
            String message = package_ + (package_.equals(BETA) ? "BetaMessage" : "Message");
            String event = package_ + (package_.equals(BETA) ? "BetaRawMessageStreamEvent" : "RawMessageStreamEvent");
            reads.addAll(List.of(method(params, "model", 0), method(params, "_body", 0), method(params, "toBuilder", 0),
                    method(params, "system", 0), method(params + "$Builder", "system", 1),
                    method(params + "$Builder", "build", 0),
                    method(params + "$System", package_.equals(BETA) ? "betaTextBlockParams" : "textBlockParams", 0),
                    method(params + "$Builder", package_.equals(BETA) ? "systemOfBetaTextBlockParams"
                            : "systemOfTextBlockParams", 1),
                    method(message, "usage", 0), method(message, "model", 0), method(message, "id", 0),
                    method(message, "content", 0), method(message, "stopReason", 0),
                    method(event, "messageStart", 0), method(event, "messageDelta", 0),
                    method(event, "contentBlockDelta", 0)));
        }
        return reads;
    }

    /** Whatever the base URL, the provider is Anthropic. */
    private static final class Provider implements Function<URI, String> {
        @Override
        public String apply(URI baseUrl) {
            return "anthropic";
        }
    }
}
