package dev.tokenguard.instrumentation.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;
import dev.tokenguard.instrumentation.SdkObjects;

import java.util.ArrayList;
import java.util.List;

/**
 * What a Bedrock stream has shown so far, event by event. A {@code converseStream}'s usage is its
 * {@code metadata} event's {@code TokenUsage}. An {@code invokeModelWithResponseStream}'s usage is the
 * {@code amazon-bedrock-invocationMetrics} that Bedrock adds to the last chunk; where it is missing, the input
 * count of an Anthropic {@code message_start} is kept for the estimate.
 */
final class BedrockStream {
    private final BedrockApi api;
    private final StringBuilder text = new StringBuilder();
    private final List<String> finishReasons = new ArrayList<>();
    private Object tokenUsage;
    private Long metricsInput;
    private Long metricsOutput;
    private Long metricsCacheRead;
    private Long metricsCacheWrite;
    private Long startInput;

    BedrockStream(BedrockApi api) {
        this.api = api;
    }

    /** Sees one event on its way to the app. */
    synchronized void onEvent(Object event) {
        if (api == BedrockApi.CONVERSE_STREAM) {
            Object usage = SdkObjects.get(event, "usage");
            if (usage != null) {
                tokenUsage = usage;
                return;
            }
            String delta = SdkObjects.text(SdkObjects.get(event, "delta"), "text");
            if (delta != null) {
                text.append(delta);
                return;
            }
            String stop = SdkObjects.text(event, "stopReasonAsString");
            if (stop != null) {
                finishReasons.clear();
                finishReasons.add(stop);
            }
            return;
        }
        JsonNode chunk = BedrockUsage.json(BedrockUsage.bytes(SdkObjects.get(event, "bytes")));
        if (chunk == null) {
            return;
        }
        String type = chunk.path("type").asText("");
        if (type.equals("message_start")) {
            JsonNode usage = chunk.path("message").path("usage");
            Long input = BedrockUsage.count(usage.get("input_tokens"));
            if (input != null) {
                startInput = BedrockUsage.sum(input, BedrockUsage.count(usage.get("cache_read_input_tokens")),
                        BedrockUsage.count(usage.get("cache_creation_input_tokens")));
            }
        }
        String stop = chunk.path("delta").path("stop_reason").asText(null);
        if (stop != null) {
            finishReasons.clear();
            finishReasons.add(stop);
        }
        String piece = BedrockUsage.modelText(chunk);
        if (piece != null) {
            text.append(piece);
        }
        JsonNode metrics = chunk.get("amazon-bedrock-invocationMetrics");
        if (metrics != null) {
            metricsInput = BedrockUsage.count(metrics.get("inputTokenCount"));
            metricsOutput = BedrockUsage.count(metrics.get("outputTokenCount"));
            metricsCacheRead = BedrockUsage.count(metrics.get("cacheReadInputTokenCount"));
            metricsCacheWrite = BedrockUsage.count(metrics.get("cacheWriteInputTokenCount"));
        }
    }

    synchronized CharSequence text() {
        return text.toString();
    }

    synchronized List<String> finishReasons() {
        return List.copyOf(finishReasons);
    }

    /** The input tokens the stream reported before its usage (an Anthropic {@code message_start}), or null. */
    synchronized Long reportedInput() {
        return startInput;
    }

    /** The usage the stream reported, or null when it reported none. */
    synchronized Usage finalUsage(String model, String id) {
        if (api == BedrockApi.CONVERSE_STREAM) {
            return tokenUsage == null ? null : BedrockUsage.ofTokenUsage(tokenUsage, model, id, finishReasons);
        }
        if (metricsInput == null && metricsOutput == null) {
            return null;
        }
        Long input = metricsInput == null ? null : BedrockUsage.sum(metricsInput, metricsCacheRead, metricsCacheWrite);
        return new Usage(input, metricsOutput, metricsCacheRead, metricsCacheWrite, null, model, id, finishReasons,
                UsageSource.PROVIDER);
    }
}
