package dev.tokenguard.instrumentation.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;

/**
 * What a request body says that governing it needs: the model, whether the response streams, the output cap the
 * request sets, whether an OpenAI chat stream already asks for usage, and the request's text (for a local estimate
 * of the input when the provider reports none, at most {@value #MAX_PROMPT_TEXT} characters).
 *
 * @param model           the requested model: the body's {@code model}, else the model the path names (for Gemini,
 *                        whose path always names it, the path's); null when neither
 * @param stream          whether the response will be a stream
 * @param maxOutputTokens the output cap the request sets, or null when it sets none
 * @param includesUsage   whether the body already has {@code stream_options.include_usage: true}
 * @param promptText      the text of the request's messages / input / prompt, bounded; never null
 * @param readable        whether the body was a JSON object
 */
public record LlmRequest(String model, boolean stream, Long maxOutputTokens, boolean includesUsage,
                         String promptText, boolean readable) {
    static final int MAX_PROMPT_TEXT = 256 * 1024;

    /** Reads a request body of the route's API; never throws. */
    public static LlmRequest read(LlmRoute route, byte[] body, int off, int len) {
        Reader r = new Reader(route.api());
        JsonWalker walker = new JsonWalker(r, false);
        if (body != null) {
            walker.feed(body, off, len);
        }
        walker.end();
        boolean readable = r.object && !walker.failed();
        // a Gemini path names the model; a Gemini body's "model" (embedContent) is a resource name, "models/<model>"
        String model = route.format() == WireFormat.GEMINI && route.pathModel() != null ? route.pathModel()
                : r.model != null ? r.model : route.pathModel();
        boolean stream = switch (route.api()) {
            case GEMINI_GENERATE -> route.streamingPath();
            case OLLAMA_CHAT, OLLAMA_GENERATE -> !Boolean.FALSE.equals(r.stream);
            case OLLAMA_EMBED, GEMINI_EMBED, OPENAI_EMBEDDINGS -> false;
            default -> Boolean.TRUE.equals(r.stream);
        };
        Long cap = r.maxCompletionTokens != null ? r.maxCompletionTokens : r.maxTokens;
        if (cap != null && cap <= 0) {
            cap = null; // Ollama's num_predict -1 (no limit) and -2 (fill the context)
        }
        return new LlmRequest(model, stream, route.api().hasOutput() ? cap : null, r.includeUsage,
                r.text.toString(), readable);
    }

    /** Reads a whole request body. */
    public static LlmRequest read(LlmRoute route, byte[] body) {
        return read(route, body, 0, body == null ? 0 : body.length);
    }

    private static final class Reader implements JsonWalker.Listener {
        private final WireApi api;
        boolean object;
        String model;
        Boolean stream;
        Long maxTokens;
        Long maxCompletionTokens;
        boolean includeUsage;
        final StringBuilder text = new StringBuilder();

        Reader(WireApi api) {
            this.api = api;
        }

        @Override
        public void messageStart() {
        }

        @Override
        public void messageEnd() {
        }

        @Override
        public void token(String path, JsonToken t, JsonParser p) throws IOException {
            if (path.isEmpty()) {
                object |= t == JsonToken.START_OBJECT;
                return;
            }
            switch (path) {
                case "model" -> model = t == JsonToken.VALUE_STRING ? p.getText() : model;
                case "stream" -> stream = t == JsonToken.VALUE_TRUE ? Boolean.TRUE
                        : t == JsonToken.VALUE_FALSE ? Boolean.FALSE : null;
                case "stream_options.include_usage" -> includeUsage = t == JsonToken.VALUE_TRUE;
                case "max_tokens", "max_output_tokens", "generationConfig.maxOutputTokens",
                        "generation_config.max_output_tokens", "options.num_predict" -> maxTokens = whole(t, p);
                case "max_completion_tokens" -> maxCompletionTokens = whole(t, p);
                default -> {
                    if (t == JsonToken.VALUE_STRING && isText(path) && text.length() < MAX_PROMPT_TEXT) {
                        String s = p.getText();
                        int room = MAX_PROMPT_TEXT - text.length();
                        if (text.length() > 0) {
                            text.append('\n');
                            room--;
                        }
                        text.append(s, 0, Math.max(0, Math.min(room, s.length())));
                    }
                }
            }
        }

        /** Whether a string at this path is text the model reads (not a role, an id, a URL or inline data). */
        private static boolean isText(String path) {
            String last = path.substring(path.lastIndexOf('.') + 1);
            while (last.endsWith("[]")) {
                last = last.substring(0, last.length() - 2);
            }
            return switch (last) {
                case "content", "text", "prompt", "system", "instructions", "input", "arguments", "output",
                        "description", "thinking" -> true;
                default -> false;
            };
        }

        private static Long whole(JsonToken t, JsonParser p) throws IOException {
            if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                return p.getLongValue();
            }
            return null;
        }
    }
}
