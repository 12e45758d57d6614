package dev.tokenguard.instrumentation.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import static dev.tokenguard.instrumentation.SdkObjects.get;
import static dev.tokenguard.instrumentation.SdkObjects.number;
import static dev.tokenguard.instrumentation.SdkObjects.path;

/**
 * Reads token usage from Bedrock Runtime responses. Converse's {@code TokenUsage} reports the uncached input,
 * the cache reads and the cache writes apart; the input tokens of a call, as the GenAI conventions count them,
 * are their sum. {@code invokeModel} answers carry the counts in the {@code X-Amzn-Bedrock-Input-Token-Count}
 * and {@code X-Amzn-Bedrock-Output-Token-Count} headers, whatever the model's own JSON says.
 */
final class BedrockUsage {
    static final String INPUT_HEADER = "x-amzn-bedrock-input-token-count";
    static final String OUTPUT_HEADER = "x-amzn-bedrock-output-token-count";
    private static final ObjectMapper JSON = new ObjectMapper();

    private BedrockUsage() {
    }

    /** A Converse {@code TokenUsage} (null when absent) as a usage; the model is the request's. */
    static Usage ofTokenUsage(Object tokenUsage, String model, String id, List<String> finishReasons) {
        Long input = number(tokenUsage, "inputTokens");
        Long cacheRead = number(tokenUsage, "cacheReadInputTokens");
        Long cacheWrite = number(tokenUsage, "cacheWriteInputTokens");
        Long total = input == null ? null : sum(input, cacheRead, cacheWrite);
        return new Usage(total, number(tokenUsage, "outputTokens"), cacheRead, cacheWrite, null, model, id,
                finishReasons, UsageSource.PROVIDER);
    }

    /** The counts of an {@code invokeModel} response's headers (each null when absent or unreadable). */
    static Usage ofInvokeHeaders(Object response, String model, String id, List<String> finishReasons) {
        Object headers = path(response, "sdkHttpResponse", "headers");
        Long input = null;
        Long output = null;
        if (headers instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> header : map.entrySet()) {
                if (!(header.getKey() instanceof String name) || !(header.getValue() instanceof List<?> values)
                        || values.isEmpty()) {
                    continue;
                }
                if (name.equalsIgnoreCase(INPUT_HEADER)) {
                    input = parse(values.get(0));
                } else if (name.equalsIgnoreCase(OUTPUT_HEADER)) {
                    output = parse(values.get(0));
                }
            }
        }
        return new Usage(input, output, null, null, null, model, id, finishReasons, UsageSource.PROVIDER);
    }

    /** The AWS request id of a response, or null. */
    static String requestId(Object response) {
        Object id = path(response, "responseMetadata", "requestId");
        return id instanceof String s && !s.isEmpty() && !s.equals("UNKNOWN") ? s : null;
    }

    /** The bytes of an {@code SdkBytes}, or null. */
    static byte[] bytes(Object sdkBytes) {
        return get(sdkBytes, "asByteArray") instanceof byte[] b ? b : null;
    }

    /** The JSON in {@code bytes}, or null when there is none. */
    static JsonNode json(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            return null;
        }
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The text a model's own JSON answer carries: Anthropic {@code content[].text} (and a stream event's
     * {@code delta.text}), Titan {@code results[].outputText}, Llama {@code generation}, Mistral
     * {@code outputs[].text}, Nova {@code output.message.content[].text}; null when none.
     */
    static String modelText(JsonNode body) {
        if (body == null) {
            return null;
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode block : body.path("content")) {
            text.append(block.path("text").asText(""));
        }
        text.append(body.path("delta").path("text").asText(""));
        for (JsonNode result : body.path("results")) {
            text.append(result.path("outputText").asText(""));
        }
        text.append(body.path("generation").asText(""));
        for (JsonNode output : body.path("outputs")) {
            text.append(output.path("text").asText(""));
        }
        for (JsonNode block : body.path("output").path("message").path("content")) {
            text.append(block.path("text").asText(""));
        }
        return text.length() == 0 ? null : text.toString();
    }

    static Long sum(Long a, Long b, Long c) {
        long x = a == null ? 0 : a;
        long y = b == null ? 0 : b;
        long z = c == null ? 0 : c;
        if (x < 0 || y < 0 || z < 0) {
            return -1L;
        }
        try {
            return Math.addExact(Math.addExact(x, y), z);
        } catch (ArithmeticException e) {
            return -1L;
        }
    }

    private static Long parse(Object value) {
        try {
            return value == null ? null : Long.parseLong(value.toString().trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** A long from a JSON number, or null. */
    static Long count(JsonNode node) {
        return node != null && node.isIntegralNumber() ? node.asLong() : null;
    }
}
