package dev.tokenguard.sample.stub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * Builds the JSON bodies of Google's Gemini API ({@code generativelanguage.googleapis.com/v1beta}), field for
 * field as the API sends them: {@code GenerateContentResponse} with its {@code usageMetadata},
 * {@code EmbedContentResponse} / {@code BatchEmbedContentsResponse} with their {@code EmbeddingUsageMetadata},
 * {@code CountTokensResponse} and the Google API error body.
 */
final class GeminiPayloads {

    static final ObjectMapper JSON = OpenAiPayloads.JSON;

    private GeminiPayloads() {
    }

    static String responseId(int n) {
        return String.format("StubGemini%08dResp", n);
    }

    // ---- errors ----

    /** {@code {"error":{"code":...,"message":...,"status":...}}}, as every Google API answers an error. */
    static ObjectNode error(int code, String message) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("code", code);
        error.put("message", message);
        error.put("status", status(code));
        return root;
    }

    /** The error the API sends with this HTTP status, for a failure injected by a test. */
    static ObjectNode errorForStatus(int code) {
        return switch (code) {
            case 400 -> error(code, "Request contains an invalid argument. (injected by the fake server)");
            case 401 -> error(code, "Request had invalid authentication credentials. (injected by the fake server)");
            case 403 -> error(code, "The caller does not have permission. (injected by the fake server)");
            case 404 -> error(code, "Requested entity was not found. (injected by the fake server)");
            case 429 -> error(code, "You exceeded your current quota, please check your plan and billing details."
                    + " (injected by the fake server)");
            case 503 -> error(code, "The model is overloaded. Please try again later. (injected by the fake server)");
            default -> error(code, code >= 500 ? "An internal error has occurred. (injected by the fake server)"
                    : "Request failed with status " + code + ". (injected by the fake server)");
        };
    }

    /** The canonical Google status name of an HTTP status. */
    static String status(int code) {
        return switch (code) {
            case 400 -> "INVALID_ARGUMENT";
            case 401 -> "UNAUTHENTICATED";
            case 403 -> "PERMISSION_DENIED";
            case 404 -> "NOT_FOUND";
            case 409 -> "ABORTED";
            case 429 -> "RESOURCE_EXHAUSTED";
            case 499 -> "CANCELLED";
            case 501 -> "NOT_IMPLEMENTED";
            case 503 -> "UNAVAILABLE";
            case 504 -> "DEADLINE_EXCEEDED";
            default -> code >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
        };
    }

    // ---- usage ----

    /**
     * The {@code usageMetadata} of a generation: {@code promptTokenCount} (cached tokens included),
     * {@code candidatesTokenCount}, {@code totalTokenCount}, and, only where not zero (the API leaves zero
     * counts out), {@code cachedContentTokenCount} and {@code thoughtsTokenCount}; plus the per-modality
     * details the API adds. With {@link UsageMode#RENAMED} the counts are under snake-case names.
     *
     * @param candidates the candidates' tokens so far (thoughts not included)
     * @param thoughts   the thinking tokens so far
     */
    static ObjectNode usage(StubUsage usage, long candidates, long thoughts, UsageMode mode) {
        ObjectNode node = JSON.createObjectNode();
        long prompt = usage.inputTokens();
        long total = prompt + candidates + thoughts;
        if (mode == UsageMode.RENAMED) {
            node.put("prompt_token_count", prompt);
            node.put("candidates_token_count", candidates);
            node.put("total_token_count", total);
            return node;
        }
        node.put("promptTokenCount", prompt);
        if (candidates > 0) {
            node.put("candidatesTokenCount", candidates);
        }
        node.put("totalTokenCount", total);
        if (usage.cachedTokens() > 0) {
            node.put("cachedContentTokenCount", usage.cachedTokens());
        }
        modalities(node.putArray("promptTokensDetails"), prompt);
        if (usage.cachedTokens() > 0) {
            modalities(node.putArray("cacheTokensDetails"), usage.cachedTokens());
        }
        if (thoughts > 0) {
            node.put("thoughtsTokenCount", thoughts);
        }
        return node;
    }

    /** The {@code EmbeddingUsageMetadata} of an embedding answer: {@code promptTokenCount} and its details. */
    static ObjectNode embeddingUsage(long prompt, UsageMode mode) {
        ObjectNode node = JSON.createObjectNode();
        if (mode == UsageMode.RENAMED) {
            node.put("prompt_token_count", prompt);
            return node;
        }
        node.put("promptTokenCount", prompt);
        modalities(node.putArray("promptTokenDetails"), prompt);
        return node;
    }

    private static void modalities(ArrayNode details, long tokens) {
        ObjectNode text = details.addObject();
        text.put("modality", "TEXT");
        text.put("tokenCount", tokens);
    }

    /** Puts {@code usage} under {@code usageMetadata}, or null, or nothing, as {@code mode} asks. */
    static void putUsage(ObjectNode parent, ObjectNode usage, UsageMode mode) {
        switch (mode) {
            case ABSENT -> { }
            case NULL -> parent.putNull("usageMetadata");
            case NORMAL, RENAMED -> parent.set("usageMetadata", usage);
        }
    }

    // ---- generateContent ----

    /** One candidate whose content is {@code parts}; {@code finishReason} null for a chunk before the last. */
    static ObjectNode candidate(ArrayNode parts, String finishReason) {
        ObjectNode candidate = JSON.createObjectNode();
        ObjectNode content = candidate.putObject("content");
        content.set("parts", parts);
        content.put("role", "model");
        if (finishReason != null) {
            candidate.put("finishReason", finishReason);
        }
        candidate.put("index", 0);
        return candidate;
    }

    static ArrayNode textParts(String text) {
        ArrayNode parts = JSON.createArrayNode();
        parts.addObject().put("text", text);
        return parts;
    }

    static ArrayNode functionCallParts(String name, JsonNode args) {
        ArrayNode parts = JSON.createArrayNode();
        ObjectNode call = parts.addObject().putObject("functionCall");
        call.put("name", name);
        call.set("args", args);
        return parts;
    }

    /** A {@code GenerateContentResponse} (a whole answer, or one chunk of a stream). */
    static ObjectNode response(int n, String model, ObjectNode candidate, ObjectNode usage, UsageMode mode) {
        ObjectNode root = JSON.createObjectNode();
        root.putArray("candidates").add(candidate);
        putUsage(root, usage, mode);
        root.put("modelVersion", model);
        root.put("responseId", responseId(n));
        return root;
    }

    // ---- embeddings and token counts ----

    /** {@code {"values":[...]}}: {@code dimensions} numbers in [-1, 1], the same for the same text. */
    static ObjectNode embedding(String text, int dimensions) {
        ObjectNode embedding = JSON.createObjectNode();
        ArrayNode values = embedding.putArray("values");
        long seed = text.hashCode();
        for (int i = 0; i < dimensions; i++) {
            seed = seed * 6364136223846793005L + 1442695040888963407L;
            values.add(((seed >>> 33) % 2001 - 1000) / 1000.0);
        }
        return embedding;
    }

    /** {@code {"totalTokens": N, "promptTokensDetails": [...]}}. */
    static ObjectNode tokensCount(long tokens) {
        ObjectNode root = JSON.createObjectNode();
        root.put("totalTokens", tokens);
        modalities(root.putArray("promptTokensDetails"), tokens);
        return root;
    }

    // ---- reading requests ----

    /**
     * Characters of what a {@code GenerateContentRequest} sends to the model: the system instruction, every
     * part's text, earlier function calls' arguments and function responses, and the function declarations.
     */
    static long promptChars(JsonNode request) {
        long chars = contentChars(request.get("systemInstruction"));
        for (JsonNode content : request.path("contents")) {
            chars += contentChars(content);
        }
        for (JsonNode tool : request.path("tools")) {
            for (JsonNode declaration : tool.path("functionDeclarations")) {
                chars += declaration.path("name").asText("").length()
                        + declaration.path("description").asText("").length();
                if (declaration.has("parameters")) {
                    chars += declaration.get("parameters").toString().length();
                }
            }
        }
        return chars;
    }

    /** Characters of one {@code Content}: its parts' text, function-call arguments and function responses. */
    static long contentChars(JsonNode content) {
        if (content == null || content.isNull()) {
            return 0;
        }
        long chars = 0;
        for (JsonNode part : content.path("parts")) {
            chars += part.path("text").asText("").length();
            if (part.has("functionCall")) {
                chars += part.get("functionCall").path("args").toString().length();
            }
            if (part.has("functionResponse")) {
                chars += part.get("functionResponse").path("response").toString().length();
            }
        }
        return chars;
    }

    /** The text of a {@code Content}'s parts, joined by spaces. */
    static String text(JsonNode content) {
        StringBuilder text = new StringBuilder();
        for (JsonNode part : content.path("parts")) {
            if (part.path("text").isTextual()) {
                text.append(text.length() > 0 ? " " : "").append(part.get("text").asText());
            }
        }
        return text.toString();
    }

    /** The text of the last content sent by the user (a content without role counts as the user's). */
    static String lastUserText(JsonNode request) {
        JsonNode contents = request.path("contents");
        for (int i = contents.size() - 1; i >= 0; i--) {
            if (contents.get(i).path("role").asText("user").equals("user")) {
                return text(contents.get(i));
            }
        }
        return "";
    }

    /** Whether the last content carries a {@code functionResponse} part (the answer to a function call). */
    static boolean endsWithFunctionResponse(JsonNode request) {
        JsonNode contents = request.path("contents");
        if (contents.isEmpty()) {
            return false;
        }
        for (JsonNode part : contents.get(contents.size() - 1).path("parts")) {
            if (part.has("functionResponse")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Arguments that fit a function declaration's {@code parameters} schema: every declared property with a
     * value of its type (the first {@code enum} value where one is given). Gemini's schema types are upper
     * case ({@code STRING}); JSON Schema's lower case ones are read alike.
     */
    static ObjectNode args(JsonNode declaration) {
        ObjectNode args = JSON.createObjectNode();
        JsonNode schema = declaration.has("parameters") ? declaration.get("parameters")
                : declaration.path("parametersJsonSchema");
        Iterator<Map.Entry<String, JsonNode>> fields = schema.path("properties").fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            JsonNode property = field.getValue();
            if (property.path("enum").isArray() && !property.path("enum").isEmpty()) {
                args.set(field.getKey(), property.path("enum").get(0));
                continue;
            }
            switch (property.path("type").asText("string").toLowerCase(Locale.ROOT)) {
                case "integer" -> args.put(field.getKey(), 3);
                case "number" -> args.put(field.getKey(), 2.5);
                case "boolean" -> args.put(field.getKey(), true);
                case "array" -> args.putArray(field.getKey());
                case "object" -> args.putObject(field.getKey());
                default -> args.put(field.getKey(), "sample " + field.getKey());
            }
        }
        return args;
    }
}
