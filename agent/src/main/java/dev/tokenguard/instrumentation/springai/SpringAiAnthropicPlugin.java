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
 * Spring AI 1.x's own Anthropic client, {@code org.springframework.ai.anthropic.api.AnthropicApi}:
 * Messages, blocking and streaming, at the framework layer, as {@link SpringAiOpenAiPlugin} does for
 * OpenAI. A stream's usage is read from the responses Spring AI builds from Anthropic's
 * {@code message_start} and {@code message_delta} events, whose counts are cumulative.
 */
public final class SpringAiAnthropicPlugin {
    static final String NAME = "spring-ai-anthropic";
    static final String API = "org.springframework.ai.anthropic.api.AnthropicApi";

    /** The declaration. */
    public static final SdkPlugin DECLARATION = new SdkPlugin(NAME, "anthropic", API, new VersionRange("1.1.0", "2"),
            List.of(new Hook(API, List.of("chatCompletionEntity", "chatCompletionStream"), 2, Layer.FRAMEWORK,
                    new SpringAiCallSites(NAME, "anthropic", SpringAiApi.ANTHROPIC_CHAT))),
            reads());

    private SpringAiAnthropicPlugin() {
    }

    private static List<Member> reads() {
        String request = API + "$ChatCompletionRequest";
        String response = API + "$ChatCompletionResponse";
        String usage = API + "$Usage";
        List<Member> reads = new ArrayList<>(List.of(
                method(request, "model", 0), method(request, "messages", 0), method(request, "system", 0),
                method(API + "$AnthropicMessage", "content", 0), method(API + "$ContentBlock", "text", 0),
                method(response, "usage", 0), method(response, "model", 0), method(response, "id", 0),
                method(response, "content", 0), method(response, "stopReason", 0),
                method(usage, "inputTokens", 0), method(usage, "outputTokens", 0),
                method(usage, "cacheReadInputTokens", 0), method(usage, "cacheCreationInputTokens", 0)));
        reads.addAll(SpringAiWeb.READS);
        return reads;
    }
}
