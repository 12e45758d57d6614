package dev.tokenguard.sample.stub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;

/**
 * Builds the JSON bodies and SSE event payloads of Anthropic's Messages API, field for field as the
 * API sends them (message, content blocks, usage with its cache fields, stream events, errors).
 */
final class AnthropicPayloads {

    static final ObjectMapper JSON = OpenAiPayloads.JSON;

    private AnthropicPayloads() {
    }

    /** The model name the API answers with: known aliases resolve to a dated snapshot, others echo. */
    static String responseModel(String requestModel) {
        return switch (requestModel) {
            case "claude-haiku-4-5" -> "claude-haiku-4-5-20251001";
            case "claude-sonnet-4-5" -> "claude-sonnet-4-5-20250929";
            case "claude-opus-4-1" -> "claude-opus-4-1-20250805";
            case "claude-sonnet-4-0" -> "claude-sonnet-4-20250514";
            case "claude-3-5-haiku-latest" -> "claude-3-5-haiku-20241022";
            default -> requestModel;
        };
    }

    static String messageId(int n) {
        return String.format("msg_01Stub%014d", n);
    }

    static String toolUseId(int n) {
        return String.format("toolu_01Stub%014d", n);
    }

    static String requestId(int n) {
        return String.format("req_01Stub%014d", n);
    }

    // ---- errors ----

    /** {@code {"type":"error","error":{"type":...,"message":...},"request_id":...}}. */
    static ObjectNode error(String type, String message, int n) {
        ObjectNode root = JSON.createObjectNode();
        root.put("type", "error");
        ObjectNode error = root.putObject("error");
        error.put("type", type);
        error.put("message", message);
        if (n > 0) {
            root.put("request_id", requestId(n));
        } else {
            root.putNull("request_id");
        }
        return root;
    }

    /** The error body Anthropic sends with this HTTP status. */
    static ObjectNode errorForStatus(int status, String model, int n) {
        return switch (status) {
            case 400 -> error("invalid_request_error", "Invalid request (injected by the fake server).", n);
            case 401 -> error("authentication_error", "invalid x-api-key", n);
            case 403 -> error("permission_error",
                    "Your API key does not have permission to use the specified resource.", n);
            case 404 -> error("not_found_error", "model: " + model, n);
            case 413 -> error("request_too_large", "Request exceeds the maximum allowed number of bytes.", n);
            case 429 -> error("rate_limit_error", "This request would exceed the rate limit for your organization "
                    + "of 50,000 input tokens per minute (injected by the fake server). Please retry later.", n);
            case 529 -> error("overloaded_error", "Overloaded", n);
            default -> status >= 500
                    ? error("api_error", "Internal server error", n)
                    : error("invalid_request_error", "Request failed with status " + status
                            + " (injected by the fake server).", n);
        };
    }

    // ---- usage ----

    /**
     * The usage object of a message (and of {@code message_start}), as {@code mode} asks: the real
     * fields, or renamed ones; {@code null} when {@code mode} leaves it out or sends JSON null
     * (see {@link #putUsage}).
     */
    static ObjectNode usage(StubUsage usage, long outputTokens, UsageMode mode) {
        ObjectNode node = JSON.createObjectNode();
        if (mode == UsageMode.RENAMED) {
            node.put("in_tokens", usage.uncachedInputTokens());
            node.put("cache_read_tokens", usage.cachedTokens());
            node.put("cache_write_tokens", usage.cacheWriteTokens());
            node.put("out_tokens", outputTokens);
            return node;
        }
        node.put("input_tokens", usage.uncachedInputTokens());
        node.put("cache_creation_input_tokens", usage.cacheWriteTokens());
        node.put("cache_read_input_tokens", usage.cachedTokens());
        ObjectNode cacheCreation = node.putObject("cache_creation");
        cacheCreation.put("ephemeral_5m_input_tokens", usage.cacheWriteTokens());
        cacheCreation.put("ephemeral_1h_input_tokens", 0);
        node.put("output_tokens", outputTokens);
        node.put("service_tier", "standard");
        node.put("inference_geo", "not_available");
        return node;
    }

    /**
     * The usage of a {@code message_delta} event: cumulative figures for the whole message so far
     * (input and cache figures repeated, output tokens up to this point).
     */
    static ObjectNode deltaUsage(StubUsage usage, long outputTokensSoFar, UsageMode mode) {
        ObjectNode node = JSON.createObjectNode();
        if (mode == UsageMode.RENAMED) {
            node.put("out_tokens", outputTokensSoFar);
            return node;
        }
        node.put("input_tokens", usage.uncachedInputTokens());
        node.put("cache_creation_input_tokens", usage.cacheWriteTokens());
        node.put("cache_read_input_tokens", usage.cachedTokens());
        node.put("output_tokens", outputTokensSoFar);
        return node;
    }

    /** Puts {@code usage} under {@code parent}, or null, or nothing, as {@code mode} asks. */
    static void putUsage(ObjectNode parent, ObjectNode usage, UsageMode mode) {
        switch (mode) {
            case ABSENT -> { }
            case NULL -> parent.putNull("usage");
            case NORMAL, RENAMED -> parent.set("usage", usage);
        }
    }

    // ---- content ----

    static ObjectNode textBlock(String text) {
        ObjectNode block = JSON.createObjectNode();
        block.put("type", "text");
        block.put("text", text);
        return block;
    }

    static ObjectNode toolUseBlock(int n, String name, JsonNode input) {
        ObjectNode block = JSON.createObjectNode();
        block.put("type", "tool_use");
        block.put("id", toolUseId(n));
        block.put("name", name);
        block.set("input", input);
        block.putObject("caller").put("type", "direct");
        return block;
    }

    /**
     * A tool input that fits the tool's {@code input_schema}: every declared property with a value
     * of its type (the first {@code enum} value where one is given).
     */
    static ObjectNode toolInput(JsonNode tool) {
        ObjectNode input = JSON.createObjectNode();
        JsonNode properties = tool.path("input_schema").path("properties");
        Iterator<Map.Entry<String, JsonNode>> fields = properties.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            String name = field.getKey();
            JsonNode schema = field.getValue();
            if (schema.path("enum").isArray() && !schema.path("enum").isEmpty()) {
                input.set(name, schema.path("enum").get(0));
                continue;
            }
            switch (schema.path("type").asText("string")) {
                case "integer" -> input.put(name, 3);
                case "number" -> input.put(name, 2.5);
                case "boolean" -> input.put(name, true);
                case "array" -> input.putArray(name);
                case "object" -> input.putObject(name);
                default -> input.put(name, "sample " + name);
            }
        }
        return input;
    }

    // ---- message ----

    /**
     * A message object. {@code content} null means the skeleton of {@code message_start} (empty
     * content, no stop reason yet).
     */
    static ObjectNode message(int n, String model, ArrayNode content, String stopReason, ObjectNode usage,
                              UsageMode mode) {
        ObjectNode root = JSON.createObjectNode();
        root.put("model", responseModel(model));
        root.put("id", messageId(n));
        root.put("type", "message");
        root.put("role", "assistant");
        root.set("content", content == null ? JSON.createArrayNode() : content);
        if (stopReason == null) {
            root.putNull("stop_reason");
        } else {
            root.put("stop_reason", stopReason);
        }
        root.putNull("stop_sequence");
        root.putNull("stop_details");
        putUsage(root, usage, mode);
        return root;
    }

    // ---- stream events ----

    static ObjectNode event(String type) {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", type);
        return node;
    }

    static ObjectNode messageStart(ObjectNode message) {
        ObjectNode event = event("message_start");
        event.set("message", message);
        return event;
    }

    static ObjectNode contentBlockStart(int index, ObjectNode block) {
        ObjectNode event = event("content_block_start");
        event.put("index", index);
        event.set("content_block", block);
        return event;
    }

    static ObjectNode textDelta(int index, String text) {
        ObjectNode event = event("content_block_delta");
        event.put("index", index);
        ObjectNode delta = event.putObject("delta");
        delta.put("type", "text_delta");
        delta.put("text", text);
        return event;
    }

    static ObjectNode inputJsonDelta(int index, String partialJson) {
        ObjectNode event = event("content_block_delta");
        event.put("index", index);
        ObjectNode delta = event.putObject("delta");
        delta.put("type", "input_json_delta");
        delta.put("partial_json", partialJson);
        return event;
    }

    static ObjectNode contentBlockStop(int index) {
        ObjectNode event = event("content_block_stop");
        event.put("index", index);
        return event;
    }

    static ObjectNode messageDelta(String stopReason, ObjectNode usage, UsageMode mode) {
        ObjectNode event = event("message_delta");
        ObjectNode delta = event.putObject("delta");
        delta.put("stop_reason", stopReason);
        delta.putNull("stop_sequence");
        delta.putNull("stop_details");
        putUsage(event, usage, mode);
        return event;
    }

    // ---- count_tokens ----

    static ObjectNode tokensCount(long inputTokens) {
        ObjectNode root = JSON.createObjectNode();
        root.put("input_tokens", inputTokens);
        return root;
    }

    // ---- reading requests ----

    /**
     * Characters of what a Messages request sends to the model: the system prompt, every message's
     * text (tool results included), the inputs of earlier tool calls, and the tool definitions.
     */
    static long promptChars(JsonNode request) {
        long chars = UsageCalculator.promptChars(request.get("system"))
                + UsageCalculator.promptChars(request.get("messages"));
        for (JsonNode message : request.path("messages")) {
            for (JsonNode block : message.path("content")) {
                if ("tool_use".equals(block.path("type").asText()) && block.has("input")) {
                    chars += block.get("input").toString().length();
                }
            }
        }
        for (JsonNode tool : request.path("tools")) {
            chars += tool.path("name").asText("").length() + tool.path("description").asText("").length();
            if (tool.has("input_schema")) {
                chars += tool.get("input_schema").toString().length();
            }
        }
        return chars;
    }

    /** Whether the last message carries a {@code tool_result} block (the answer to a tool call). */
    static boolean endsWithToolResult(JsonNode request) {
        JsonNode messages = request.path("messages");
        if (!messages.isArray() || messages.isEmpty()) {
            return false;
        }
        for (JsonNode block : messages.get(messages.size() - 1).path("content")) {
            if ("tool_result".equals(block.path("type").asText())) {
                return true;
            }
        }
        return false;
    }
}
