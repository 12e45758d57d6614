package dev.tokenguard.sample;

import com.anthropic.client.AnthropicClient;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.beta.messages.BetaMessage;
import com.anthropic.models.beta.messages.BetaTextBlock;
import com.anthropic.models.beta.messages.BetaUsage;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.TextBlock;
import com.anthropic.models.messages.Usage;
import java.util.stream.Collectors;

/**
 * Summarizes tickets with anthropic-java, as any app would: mostly {@code messages().create}, the
 * second ticket as a stream (gathered with the SDK's {@link MessageAccumulator}) and the third
 * through the beta messages service.
 *
 * <p>The input tokens of a summary are the whole prompt, cached parts included:
 * {@code input_tokens + cache_read_input_tokens + cache_creation_input_tokens}.
 */
final class AnthropicSummarizer implements SampleApp.Summarizer {

    /** Room for a one-sentence summary. */
    static final long MAX_TOKENS = 256;

    private final AnthropicClient client;
    private final String model;

    AnthropicSummarizer(AnthropicClient client, String model) {
        this.client = client;
        this.model = model;
    }

    @Override
    public Summary summarize(int index, Ticket ticket) {
        return switch (index) {
            case 1 -> stream(ticket);
            case 2 -> beta(ticket);
            default -> messages(ticket);
        };
    }

    private MessageCreateParams params(Ticket ticket) {
        return MessageCreateParams.builder()
                .model(model)
                .maxTokens(MAX_TOKENS)
                .system(SampleApp.Summarizer.INSTRUCTIONS)
                .addUserMessage(ticket.text())
                .build();
    }

    private Summary messages(Ticket ticket) {
        return summary("messages", client.messages().create(params(ticket)));
    }

    private Summary stream(Ticket ticket) {
        MessageAccumulator accumulator = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params(ticket))) {
            stream.stream().forEach(accumulator::accumulate);
        }
        return summary("stream", accumulator.message());
    }

    private Summary beta(Ticket ticket) {
        BetaMessage message = client.beta().messages().create(com.anthropic.models.beta.messages.MessageCreateParams
                .builder()
                .model(model)
                .maxTokens(MAX_TOKENS)
                .system(SampleApp.Summarizer.INSTRUCTIONS)
                .addUserMessage(ticket.text())
                .build());
        String text = message.content().stream()
                .flatMap(block -> block.text().stream())
                .map(BetaTextBlock::text)
                .collect(Collectors.joining());
        BetaUsage usage = message.usage();
        long input = usage.inputTokens() + usage.cacheReadInputTokens().orElse(0L)
                + usage.cacheCreationInputTokens().orElse(0L);
        return new Summary("beta", input, usage.outputTokens(), text);
    }

    private static Summary summary(String method, Message message) {
        String text = message.content().stream()
                .flatMap(block -> block.text().stream())
                .map(TextBlock::text)
                .collect(Collectors.joining());
        Usage usage = message.usage();
        long input = usage.inputTokens() + usage.cacheReadInputTokens().orElse(0L)
                + usage.cacheCreationInputTokens().orElse(0L);
        return new Summary(method, input, usage.outputTokens(), text);
    }
}
