package dev.tokenguard.instrumentation.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.instrumentation.SdkObjects;

import java.util.List;

/** Reads the text a Bedrock Runtime request sends to the model, for content capture and local estimates. */
final class BedrockRequests {
    private BedrockRequests() {
    }

    /**
     * The prompt's text: a Converse request's system blocks and messages' text blocks; for {@code invokeModel},
     * the text fields of the model's own JSON body (Anthropic {@code system} and {@code messages}, Titan
     * {@code inputText}, Llama / Mistral {@code prompt}), or the whole body when none is found.
     */
    static String promptText(BedrockApi api, Object request) {
        StringBuilder text = new StringBuilder();
        if (!api.invoke) {
            if (SdkObjects.get(request, "system") instanceof List<?> system) {
                for (Object block : system) {
                    append(text, SdkObjects.text(block, "text"));
                }
            }
            if (SdkObjects.get(request, "messages") instanceof List<?> messages) {
                for (Object message : messages) {
                    append(text, messageText(message));
                }
            }
            return text.toString();
        }
        byte[] raw = BedrockUsage.bytes(SdkObjects.get(request, "body"));
        JsonNode body = BedrockUsage.json(raw);
        if (body == null) {
            return raw == null ? "" : BedrockCall.utf8(raw);
        }
        JsonNode system = body.path("system");
        append(text, system.isTextual() ? system.asText() : blocksText(system));
        for (JsonNode message : body.path("messages")) {
            JsonNode content = message.path("content");
            append(text, content.isTextual() ? content.asText() : blocksText(content));
        }
        append(text, body.path("inputText").asText(null));
        append(text, body.path("prompt").asText(null));
        return text.length() == 0 ? BedrockCall.utf8(raw) : text.toString();
    }

    /** The text blocks of a Converse {@code Message}, or null. */
    static String messageText(Object message) {
        if (!(SdkObjects.get(message, "content") instanceof List<?> blocks)) {
            return null;
        }
        StringBuilder text = new StringBuilder();
        for (Object block : blocks) {
            append(text, SdkObjects.text(block, "text"));
        }
        return text.length() == 0 ? null : text.toString();
    }

    private static String blocksText(JsonNode blocks) {
        StringBuilder text = new StringBuilder();
        for (JsonNode block : blocks) {
            append(text, block.path("text").asText(null));
        }
        return text.toString();
    }

    private static void append(StringBuilder text, String part) {
        if (part != null && !part.isEmpty()) {
            text.append(text.length() == 0 ? "" : "\n").append(part);
        }
    }
}
