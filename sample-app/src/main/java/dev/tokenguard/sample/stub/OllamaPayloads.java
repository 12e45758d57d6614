package dev.tokenguard.sample.stub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/**
 * Builds the JSON objects of Ollama's native API ({@code /api/chat}, {@code /api/generate}, {@code /api/embed},
 * {@code /api/tags}) field for field as Ollama sends them: the lines of an NDJSON stream, the final
 * {@code "done": true} object with its counts and durations, embeddings and errors.
 */
final class OllamaPayloads {

    static final ObjectMapper JSON = OpenAiPayloads.JSON;
    private static final Instant EPOCH = Instant.parse("2026-01-05T09:00:00Z");

    private OllamaPayloads() {
    }

    /** {@code {"error": message}}, Ollama's error body. */
    static ObjectNode error(String message) {
        ObjectNode root = JSON.createObjectNode();
        root.put("error", message);
        return root;
    }

    /** The error body Ollama (or a proxy in front of it) sends with this HTTP status, for an injected failure. */
    static ObjectNode errorForStatus(int status, String model) {
        return switch (status) {
            case 404 -> error("model \"" + model + "\" not found, try pulling it first");
            case 429 -> error("too many requests (injected by the fake server)");
            case 503 -> error("server busy, please try again.  maximum pending requests exceeded");
            default -> error(status >= 500 ? "an internal error occurred (injected by the fake server)"
                    : "request failed with status " + status + " (injected by the fake server)");
        };
    }

    /** {@code created_at} of line {@code line} of request {@code n}: deterministic, a few ms apart. */
    static String createdAt(int n, int line) {
        return EPOCH.plusSeconds(n).plusNanos(line * 21_345_678L + 180_546_000L).toString();
    }

    /** A line of a chat stream before the last: the assistant's next piece of content. */
    static ObjectNode chatChunk(int n, int line, String model, ObjectNode message) {
        ObjectNode root = JSON.createObjectNode();
        root.put("model", model);
        root.put("created_at", createdAt(n, line));
        root.set("message", message);
        root.put("done", false);
        return root;
    }

    /** A line of a generate stream before the last: the next piece of the response. */
    static ObjectNode generateChunk(int n, int line, String model, String piece) {
        ObjectNode root = JSON.createObjectNode();
        root.put("model", model);
        root.put("created_at", createdAt(n, line));
        root.put("response", piece);
        root.put("done", false);
        return root;
    }

    static ObjectNode assistantMessage(String content) {
        ObjectNode message = JSON.createObjectNode();
        message.put("role", "assistant");
        message.put("content", content);
        return message;
    }

    /** An assistant message calling {@code name} with {@code arguments} (a JSON object, as Ollama sends it). */
    static ObjectNode toolCallMessage(int n, String name, JsonNode arguments) {
        ObjectNode message = assistantMessage("");
        ObjectNode call = message.putArray("tool_calls").addObject();
        call.put("id", String.format("call_stub%08d", n));
        ObjectNode function = call.putObject("function");
        function.put("index", 0);
        function.put("name", name);
        function.set("arguments", arguments);
        return message;
    }

    /**
     * Adds what the final {@code "done": true} object carries: {@code done_reason}, the durations (in
     * nanoseconds) and, as {@code mode} asks, {@code prompt_eval_count} and {@code eval_count}.
     */
    static void finish(ObjectNode root, String doneReason, StubUsage usage, UsageMode mode) {
        if (doneReason != null) {
            root.put("done_reason", doneReason);
        }
        root.put("done", true);
        long promptNanos = usage.inputTokens() * 1_250_000L;
        long evalNanos = usage.outputTokens() * 21_000_000L;
        root.put("total_duration", 27_906_292L + promptNanos + evalNanos + 3_000_000L);
        root.put("load_duration", 27_906_292L);
        putCount(root, "prompt_eval_count", "prompt_tokens", usage.inputTokens(), mode);
        root.put("prompt_eval_duration", promptNanos);
        putCount(root, "eval_count", "completion_tokens", usage.outputTokens(), mode);
        root.put("eval_duration", evalNanos);
    }

    /** A count under its own name, under {@code renamed}, as null, or not at all, as {@code mode} asks. */
    static void putCount(ObjectNode root, String name, String renamed, long count, UsageMode mode) {
        switch (mode) {
            case ABSENT -> { }
            case NULL -> root.putNull(name);
            case RENAMED -> root.put(renamed, count);
            case NORMAL -> root.put(name, count);
        }
    }

    /** The {@code context} a generate answer ends with: token ids standing for the conversation so far. */
    static ArrayNode context(long tokens) {
        ArrayNode context = JSON.createArrayNode();
        for (int i = 0; i < Math.min(tokens, 16); i++) {
            context.add(128_000 + i * 7);
        }
        return context;
    }

    /** One embedding: {@code dimensions} numbers in [-1, 1], the same for the same text. */
    static ArrayNode embedding(String text, int dimensions) {
        ArrayNode values = JSON.createArrayNode();
        long seed = text.hashCode() ^ 0x5DEECE66DL;
        for (int i = 0; i < dimensions; i++) {
            seed = seed * 6364136223846793005L + 1442695040888963407L;
            values.add(((seed >>> 33) % 2001 - 1000) / 1000.0);
        }
        return values;
    }

    /** {@code /api/tags}: the models the server has, as Ollama lists them. */
    static ObjectNode tags(Iterable<String> models) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode list = root.putArray("models");
        int i = 0;
        for (String model : models) {
            String name = model.contains(":") ? model : model + ":latest";
            ObjectNode entry = list.addObject();
            entry.put("name", name);
            entry.put("model", name);
            entry.put("modified_at", EPOCH.minusSeconds(86_400L * ++i).toString());
            entry.put("size", 2_019_393_189L + i);
            entry.put("digest", String.format("%064x", (long) name.hashCode() & 0xffffffffL));
            ObjectNode details = entry.putObject("details");
            details.put("parent_model", "");
            details.put("format", "gguf");
            details.put("family", "llama");
            details.putArray("families").add("llama");
            details.put("parameter_size", "3.2B");
            details.put("quantization_level", "Q4_K_M");
        }
        return root;
    }

    // ---- reading requests ----

    /**
     * Characters of what a chat request sends to the model: every message's content, earlier tool calls'
     * arguments, and the tool definitions.
     */
    static long chatPromptChars(JsonNode request) {
        long chars = UsageCalculator.promptChars(request.get("messages"));
        for (JsonNode message : request.path("messages")) {
            for (JsonNode call : message.path("tool_calls")) {
                chars += call.path("function").path("arguments").toString().length();
            }
        }
        for (JsonNode tool : request.path("tools")) {
            JsonNode function = tool.path("function");
            chars += function.path("name").asText("").length() + function.path("description").asText("").length();
            if (function.has("parameters")) {
                chars += function.get("parameters").toString().length();
            }
        }
        return chars;
    }

    /** The content of the last user message of a chat request. */
    static String lastUserText(JsonNode request) {
        return UsageCalculator.lastUserText(request.get("messages"));
    }

    /** Whether the last message of a chat request is a tool's result. */
    static boolean endsWithToolResult(JsonNode request) {
        JsonNode messages = request.path("messages");
        return messages.isArray() && !messages.isEmpty()
                && "tool".equals(messages.get(messages.size() - 1).path("role").asText());
    }
}
