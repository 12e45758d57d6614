package dev.tokenguard.sample.stub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** Builds the JSON bodies and SSE events OpenAI's API answers with, field for field. */
final class OpenAiPayloads {

    static final ObjectMapper JSON = new ObjectMapper();

    /** A fixed epoch second (2025-01-01T00:00:00Z) plus the sequence number keeps answers deterministic. */
    private static final long BASE_EPOCH_SECOND = 1_735_689_600L;

    private OpenAiPayloads() {
    }

    static long created(int n) {
        return BASE_EPOCH_SECOND + n;
    }

    /** The model name the API answers with: known aliases resolve to a dated snapshot, others echo. */
    static String responseModel(String requestModel) {
        return switch (requestModel) {
            case "gpt-4o-mini" -> "gpt-4o-mini-2024-07-18";
            case "gpt-4o" -> "gpt-4o-2024-08-06";
            case "gpt-4.1" -> "gpt-4.1-2025-04-14";
            case "gpt-4.1-mini" -> "gpt-4.1-mini-2025-04-14";
            case "o4-mini" -> "o4-mini-2025-04-16";
            default -> requestModel;
        };
    }

    // ---- errors ----

    static ObjectNode error(String message, String type, String param, String code) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", message);
        error.put("type", type);
        error.put("param", param);
        error.put("code", code);
        return root;
    }

    /** The error body OpenAI sends for an injected failure with this status. */
    static ObjectNode errorForStatus(int status, String model) {
        return switch (status) {
            case 400 -> error("Invalid request (injected by the fake server).", "invalid_request_error", null, null);
            case 401 -> error("Incorrect API key provided. You can find your API key at "
                    + "https://platform.openai.com/account/api-keys.", "invalid_request_error", null, "invalid_api_key");
            case 403 -> error("You are not allowed to sample from this model", "invalid_request_error", null, null);
            case 404 -> error("The model `" + model + "` does not exist or you do not have access to it.",
                    "invalid_request_error", null, "model_not_found");
            case 429 -> error("Rate limit reached for " + model + " on tokens per min (TPM): Limit 30000, "
                    + "Used 30000, Requested 100. Please try again in 200ms.", "tokens", null, "rate_limit_exceeded");
            case 503 -> error("The engine is currently overloaded, please try again later", "server_error", null, null);
            default -> status >= 500
                    ? error("The server had an error while processing your request. Sorry about that!", "server_error", null, null)
                    : error("Request failed with status " + status + " (injected by the fake server).",
                            "invalid_request_error", null, null);
        };
    }

    // ---- chat completions ----

    static ObjectNode chatUsage(StubUsage usage) {
        ObjectNode node = JSON.createObjectNode();
        node.put("prompt_tokens", usage.inputTokens());
        node.put("completion_tokens", usage.outputTokens());
        node.put("total_tokens", usage.totalTokens());
        ObjectNode prompt = node.putObject("prompt_tokens_details");
        prompt.put("cached_tokens", usage.cachedTokens());
        prompt.put("audio_tokens", 0);
        ObjectNode completion = node.putObject("completion_tokens_details");
        completion.put("reasoning_tokens", usage.reasoningTokens());
        completion.put("audio_tokens", 0);
        completion.put("accepted_prediction_tokens", 0);
        completion.put("rejected_prediction_tokens", 0);
        return node;
    }

    static ObjectNode chatCompletion(int n, String model, String text, String finishReason, StubUsage usage) {
        ObjectNode root = JSON.createObjectNode();
        root.put("id", chatId(n));
        root.put("object", "chat.completion");
        root.put("created", created(n));
        root.put("model", responseModel(model));
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", text);
        message.putNull("refusal");
        message.putArray("annotations");
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason);
        root.set("usage", chatUsage(usage));
        root.put("service_tier", "default");
        root.put("system_fingerprint", fingerprint(n));
        return root;
    }

    /**
     * A chat completion whose answer is one call of {@code function} (an entry of the request's
     * {@code tools}), with arguments that fit its {@code parameters} schema; finish reason {@code tool_calls}.
     */
    static ObjectNode chatToolCall(int n, String model, JsonNode function, StubUsage usage) {
        ObjectNode root = chatCompletion(n, model, null, "tool_calls", usage);
        ObjectNode message = (ObjectNode) root.path("choices").get(0).path("message");
        message.putNull("content");
        ObjectNode call = message.putArray("tool_calls").addObject();
        call.put("id", "call_stub" + n);
        call.put("type", "function");
        ObjectNode invoked = call.putObject("function");
        invoked.put("name", function.path("name").asText());
        ObjectNode schema = JSON.createObjectNode();
        schema.set("input_schema", function.path("parameters"));
        invoked.put("arguments", AnthropicPayloads.toolInput(schema).toString());
        return root;
    }

    /**
     * The {@code data:} payloads of a chat completion stream, without the final {@code [DONE]}: a
     * role delta, the content deltas, a finish chunk and, when {@code includeUsage}, a usage-only
     * chunk with empty choices (every earlier chunk then carries {@code "usage": null}).
     */
    static List<ObjectNode> chatChunks(int n, String model, List<String> pieces, String finishReason,
                                       boolean includeUsage, StubUsage usage) {
        List<ObjectNode> chunks = new ArrayList<>();
        ObjectNode roleDelta = JSON.createObjectNode();
        roleDelta.put("role", "assistant");
        roleDelta.put("content", "");
        roleDelta.putNull("refusal");
        chunks.add(chunk(n, model, roleDelta, null, includeUsage));
        for (String piece : pieces) {
            ObjectNode delta = JSON.createObjectNode();
            delta.put("content", piece);
            chunks.add(chunk(n, model, delta, null, includeUsage));
        }
        chunks.add(chunk(n, model, JSON.createObjectNode(), finishReason, includeUsage));
        if (includeUsage) {
            ObjectNode last = chunkHeader(n, model);
            last.putArray("choices");
            last.set("usage", chatUsage(usage));
            chunks.add(last);
        }
        return chunks;
    }

    private static ObjectNode chunk(int n, String model, ObjectNode delta, String finishReason, boolean usageNull) {
        ObjectNode root = chunkHeader(n, model);
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        choice.set("delta", delta);
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason);
        if (usageNull) {
            root.putNull("usage");
        }
        return root;
    }

    private static ObjectNode chunkHeader(int n, String model) {
        ObjectNode root = JSON.createObjectNode();
        root.put("id", chatId(n));
        root.put("object", "chat.completion.chunk");
        root.put("created", created(n));
        root.put("model", responseModel(model));
        root.put("service_tier", "default");
        root.put("system_fingerprint", fingerprint(n));
        return root;
    }

    // ---- responses ----

    static ObjectNode responseUsage(StubUsage usage) {
        ObjectNode node = JSON.createObjectNode();
        node.put("input_tokens", usage.inputTokens());
        ObjectNode inputDetails = node.putObject("input_tokens_details");
        inputDetails.put("cached_tokens", usage.cachedTokens());
        inputDetails.put("cache_write_tokens", 0); // required by newer SDKs (4.101); the stub never writes a cache
        node.put("output_tokens", usage.outputTokens());
        node.putObject("output_tokens_details").put("reasoning_tokens", usage.reasoningTokens());
        node.put("total_tokens", usage.totalTokens());
        return node;
    }

    static ObjectNode outputText(String text) {
        ObjectNode part = JSON.createObjectNode();
        part.put("type", "output_text");
        part.putArray("annotations");
        part.putArray("logprobs");
        part.put("text", text);
        return part;
    }

    static ObjectNode messageItem(int n, String status, ObjectNode contentPartOrNull) {
        ObjectNode item = JSON.createObjectNode();
        item.put("id", messageId(n));
        item.put("type", "message");
        item.put("status", status);
        ArrayNode content = item.putArray("content");
        if (contentPartOrNull != null) {
            content.add(contentPartOrNull);
        }
        item.put("role", "assistant");
        return item;
    }

    /**
     * A response object. {@code status} is {@code in_progress} (no output, usage null),
     * {@code completed} or {@code incomplete} (output and usage present).
     */
    static ObjectNode response(int n, ObjectNode request, String status, String text, StubUsage usage) {
        String model = request.path("model").asText();
        boolean done = !"in_progress".equals(status);
        ObjectNode root = JSON.createObjectNode();
        root.put("id", responseId(n));
        root.put("object", "response");
        root.put("created_at", created(n));
        root.put("status", status);
        root.put("background", false);
        if (done) {
            root.put("completed_at", created(n) + 1);
        } else {
            root.putNull("completed_at");
        }
        root.putNull("error");
        if ("incomplete".equals(status)) {
            root.putObject("incomplete_details").put("reason", "max_output_tokens");
        } else {
            root.putNull("incomplete_details");
        }
        root.set("instructions", request.has("instructions") ? request.get("instructions") : JSON.nullNode());
        root.set("max_output_tokens", request.has("max_output_tokens") ? request.get("max_output_tokens") : JSON.nullNode());
        root.putNull("max_tool_calls");
        root.put("model", responseModel(model));
        ArrayNode output = root.putArray("output");
        if (done) {
            output.add(messageItem(n, "completed", outputText(text)));
        }
        root.put("parallel_tool_calls", true);
        root.set("previous_response_id",
                request.has("previous_response_id") ? request.get("previous_response_id") : JSON.nullNode());
        root.putNull("prompt_cache_key");
        ObjectNode reasoning = root.putObject("reasoning");
        if (UsageCalculator.isReasoningModel(model)) {
            reasoning.put("effort", "medium");
        } else {
            reasoning.putNull("effort");
        }
        reasoning.putNull("summary");
        root.putNull("safety_identifier");
        root.put("service_tier", "default");
        root.put("store", request.path("store").asBoolean(true));
        root.put("temperature", 1.0);
        ObjectNode textConfig = root.putObject("text");
        textConfig.putObject("format").put("type", "text");
        textConfig.put("verbosity", "medium");
        root.put("tool_choice", "auto");
        root.putArray("tools");
        root.put("top_logprobs", 0);
        root.put("top_p", 1.0);
        root.put("truncation", "disabled");
        if (done) {
            root.set("usage", responseUsage(usage));
        } else {
            root.putNull("usage");
        }
        root.putNull("user");
        root.putObject("metadata");
        return root;
    }

    /**
     * The events of a Responses stream, in order, each with its {@code type} and
     * {@code sequence_number} (0, 1, 2...): created, in_progress, output_item.added,
     * content_part.added, output_text.delta (one per piece), output_text.done, content_part.done,
     * output_item.done and completed (or incomplete), whose response carries the usage.
     */
    static List<ObjectNode> responseEvents(int n, ObjectNode request, List<String> pieces, String text,
                                           String finalStatus, StubUsage usage) {
        List<ObjectNode> events = new ArrayList<>();
        String itemId = messageId(n);
        ObjectNode inProgress = response(n, request, "in_progress", text, usage);
        events.add(event("response.created").set("response", inProgress));
        events.add(event("response.in_progress").set("response", inProgress.deepCopy()));
        ObjectNode added = event("response.output_item.added");
        added.put("output_index", 0);
        added.set("item", messageItem(n, "in_progress", null));
        events.add(added);
        ObjectNode partAdded = itemEvent("response.content_part.added", itemId);
        partAdded.set("part", outputText(""));
        events.add(partAdded);
        for (String piece : pieces) {
            ObjectNode delta = itemEvent("response.output_text.delta", itemId);
            delta.put("delta", piece);
            delta.putArray("logprobs");
            events.add(delta);
        }
        ObjectNode textDone = itemEvent("response.output_text.done", itemId);
        textDone.put("text", text);
        textDone.putArray("logprobs");
        events.add(textDone);
        ObjectNode partDone = itemEvent("response.content_part.done", itemId);
        partDone.set("part", outputText(text));
        events.add(partDone);
        ObjectNode itemDone = event("response.output_item.done");
        itemDone.put("output_index", 0);
        itemDone.set("item", messageItem(n, "completed", outputText(text)));
        events.add(itemDone);
        String finalType = "incomplete".equals(finalStatus) ? "response.incomplete" : "response.completed";
        events.add(event(finalType).set("response", response(n, request, finalStatus, text, usage)));
        for (int i = 0; i < events.size(); i++) {
            events.get(i).put("sequence_number", i);
        }
        return events;
    }

    private static ObjectNode event(String type) {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", type);
        return node;
    }

    private static ObjectNode itemEvent(String type, String itemId) {
        ObjectNode node = event(type);
        node.put("item_id", itemId);
        node.put("output_index", 0);
        node.put("content_index", 0);
        return node;
    }

    // ---- embeddings ----

    /**
     * An embeddings list with one embedding of {@code dimensions} values per input; as base64 of
     * little-endian float32 when {@code base64}, else as a JSON array of floats.
     */
    static ObjectNode embeddings(int n, String model, int inputs, int dimensions, boolean base64, StubUsage usage) {
        ObjectNode root = JSON.createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (int i = 0; i < inputs; i++) {
            ObjectNode embedding = data.addObject();
            embedding.put("object", "embedding");
            embedding.put("index", i);
            float[] vector = vector(n, i, dimensions);
            if (base64) {
                ByteBuffer bytes = ByteBuffer.allocate(4 * dimensions).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : vector) {
                    bytes.putFloat(v);
                }
                embedding.put("embedding", Base64.getEncoder().encodeToString(bytes.array()));
            } else {
                ArrayNode values = embedding.putArray("embedding");
                for (float v : vector) {
                    values.add(v);
                }
            }
        }
        root.put("model", model);
        ObjectNode usageNode = root.putObject("usage");
        usageNode.put("prompt_tokens", usage.inputTokens());
        usageNode.put("total_tokens", usage.totalTokens());
        return root;
    }

    private static float[] vector(int n, int index, int dimensions) {
        float[] vector = new float[dimensions];
        for (int d = 0; d < dimensions; d++) {
            vector[d] = ((n * 31 + index * 17 + d * 13) % 200 - 100) / 1000f;
        }
        return vector;
    }

    // ---- ids ----

    private static String chatId(int n) {
        return String.format("chatcmpl-stub%08d", n);
    }

    private static String responseId(int n) {
        return String.format("resp_stub%08d", n);
    }

    private static String messageId(int n) {
        return String.format("msg_stub%08d", n);
    }

    private static String fingerprint(int n) {
        return "fp_stub" + (n % 4);
    }
}
