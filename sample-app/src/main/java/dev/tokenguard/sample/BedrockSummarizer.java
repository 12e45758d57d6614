package dev.tokenguard.sample;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeClient;
import software.amazon.awssdk.services.bedrockruntime.model.ContentBlock;
import software.amazon.awssdk.services.bedrockruntime.model.ConversationRole;
import software.amazon.awssdk.services.bedrockruntime.model.ConverseResponse;
import software.amazon.awssdk.services.bedrockruntime.model.InvokeModelResponse;
import software.amazon.awssdk.services.bedrockruntime.model.Message;
import software.amazon.awssdk.services.bedrockruntime.model.SystemContentBlock;
import software.amazon.awssdk.services.bedrockruntime.model.TokenUsage;

/**
 * Summarizes tickets with the AWS SDK's Bedrock Runtime client, as any app would: mostly {@code converse}, and
 * the second ticket through {@code invokeModel} with an Anthropic Messages body when the model is a Claude model
 * (Bedrock then reports the tokens in the {@code X-Amzn-Bedrock-Input-Token-Count} /
 * {@code -Output-Token-Count} response headers, for every model).
 *
 * <p>The input tokens of a summary are the whole prompt: {@code inputTokens} plus the cache reads and writes that
 * Converse reports apart.
 */
final class BedrockSummarizer implements SampleApp.Summarizer {

    /** Room for a one-sentence summary. */
    static final int MAX_TOKENS = 256;
    static final String INPUT_TOKENS_HEADER = "X-Amzn-Bedrock-Input-Token-Count";
    static final String OUTPUT_TOKENS_HEADER = "X-Amzn-Bedrock-Output-Token-Count";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final BedrockRuntimeClient client;
    private final String model;

    BedrockSummarizer(BedrockRuntimeClient client, String model) {
        this.client = client;
        this.model = model;
    }

    @Override
    public Summary summarize(int index, Ticket ticket) {
        return index == 1 && isClaude(model) ? invoke(ticket) : converse(ticket);
    }

    /** Whether the model id (or inference profile, e.g. {@code us.anthropic.claude-...}) names a Claude model. */
    static boolean isClaude(String modelId) {
        return modelId.toLowerCase(Locale.ROOT).contains("anthropic.claude");
    }

    private Summary converse(Ticket ticket) {
        ConverseResponse response = client.converse(request -> request
                .modelId(model)
                .system(SystemContentBlock.fromText(SampleApp.Summarizer.INSTRUCTIONS))
                .messages(Message.builder().role(ConversationRole.USER).content(ContentBlock.fromText(ticket.text()))
                        .build())
                .inferenceConfig(config -> config.maxTokens(MAX_TOKENS)));
        String text = response.output() == null || response.output().message() == null ? ""
                : response.output().message().content().stream()
                        .map(ContentBlock::text)
                        .filter(Objects::nonNull)
                        .collect(Collectors.joining());
        TokenUsage usage = response.usage();
        if (usage == null || usage.inputTokens() == null || usage.outputTokens() == null) {
            return new Summary("converse", null, null, text);
        }
        long input = (long) usage.inputTokens() + orZero(usage.cacheReadInputTokens())
                + orZero(usage.cacheWriteInputTokens());
        return new Summary("converse", input, (long) usage.outputTokens(), text);
    }

    private Summary invoke(Ticket ticket) {
        ObjectNode body = JSON.createObjectNode()
                .put("anthropic_version", "bedrock-2023-05-31")
                .put("max_tokens", MAX_TOKENS)
                .put("system", SampleApp.Summarizer.INSTRUCTIONS);
        body.putArray("messages").addObject().put("role", "user").put("content", ticket.text());
        InvokeModelResponse response = client.invokeModel(request -> request
                .modelId(model)
                .contentType("application/json")
                .accept("application/json")
                .body(SdkBytes.fromUtf8String(body.toString())));
        StringBuilder text = new StringBuilder();
        for (JsonNode block : read(response.body())) {
            if ("text".equals(block.path("type").asText())) {
                text.append(block.path("text").asText());
            }
        }
        Optional<Long> input = header(response, INPUT_TOKENS_HEADER);
        Optional<Long> output = header(response, OUTPUT_TOKENS_HEADER);
        return input.isPresent() && output.isPresent()
                ? new Summary("invoke", input.get(), output.get(), text.toString())
                : new Summary("invoke", null, null, text.toString());
    }

    /** The {@code content} blocks of an Anthropic message body. */
    private static JsonNode read(SdkBytes body) {
        try {
            return JSON.readTree(body.asByteArray()).path("content");
        } catch (IOException e) {
            throw new UncheckedIOException("the invokeModel response is not JSON", e);
        }
    }

    private static Optional<Long> header(InvokeModelResponse response, String name) {
        return response.sdkHttpResponse().firstMatchingHeader(name).flatMap(value -> {
            try {
                return Optional.of(Long.parseLong(value.strip()));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        });
    }

    private static long orZero(Integer value) {
        return value == null ? 0 : value;
    }
}
