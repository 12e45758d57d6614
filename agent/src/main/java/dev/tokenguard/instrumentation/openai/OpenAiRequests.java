package dev.tokenguard.instrumentation.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenguard.core.TokenEstimator;
import dev.tokenguard.instrumentation.SdkObjects;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.URI;

/**
 * Reads and adjusts openai-java request parameters: the requested model, the server the client
 * talks to, {@code stream_options.include_usage} for chat streams, and a local estimate of the
 * request's input tokens.
 */
final class OpenAiRequests {
    /**
     * Built on first use only (content capture, local estimates): creating an ObjectMapper loads some
     * 300 Jackson classes, which the common path never needs and which cost start-up time.
     */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    private static final ClassValue<Field> CLIENT_OPTIONS = new ClassValue<>() {
        @Override
        protected Field computeValue(Class<?> type) {
            try {
                Field f = type.getDeclaredField("clientOptions");
                f.setAccessible(true);
                return f;
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }
    };

    private OpenAiRequests() {
    }

    /** The model a request asks for, or null. */
    static String model(Object params) {
        return SdkObjects.text(params, "model");
    }

    /** The base URL of the client a service belongs to, or null. */
    static URI baseUrl(Object service) {
        try {
            Field field = CLIENT_OPTIONS.get(service.getClass());
            if (field == null) {
                return null;
            }
            Object url = SdkObjects.get(field.get(service), "baseUrl");
            return url instanceof String s ? URI.create(s) : null;
        } catch (IllegalAccessException | IllegalArgumentException e) {
            return null;
        }
    }

    /** GenAI provider name for a base URL: Azure OpenAI hosts are {@code azure.ai.openai}. */
    static String provider(URI baseUrl) {
        String host = baseUrl == null ? null : baseUrl.getHost();
        return host != null && host.endsWith(".openai.azure.com") ? "azure.ai.openai" : "openai";
    }

    /** Whether a chat request already asks for the usage chunk ({@code stream_options.include_usage}). */
    static boolean includesUsage(Object params) {
        return Boolean.TRUE.equals(SdkObjects.path(params, "streamOptions", "includeUsage"));
    }

    /**
     * The same chat request with {@code stream_options.include_usage = true}, keeping any other
     * stream option the app set.
     */
    static Object withIncludeUsage(Object params) throws ReflectiveOperationException {
        Class<?> optionsType = Class.forName("com.openai.models.chat.completions.ChatCompletionStreamOptions", false,
                params.getClass().getClassLoader());
        Object existing = SdkObjects.get(params, "streamOptions");
        Object optionsBuilder = existing == null
                ? optionsType.getMethod("builder").invoke(null)
                : existing.getClass().getMethod("toBuilder").invoke(existing);
        optionsBuilder.getClass().getMethod("includeUsage", boolean.class).invoke(optionsBuilder, true);
        Object options = optionsBuilder.getClass().getMethod("build").invoke(optionsBuilder);
        Object builder = params.getClass().getMethod("toBuilder").invoke(params);
        builder.getClass().getMethod("streamOptions", optionsType).invoke(builder, options);
        return builder.getClass().getMethod("build").invoke(builder);
    }

    /**
     * The same request carrying {@code notice} as a system message: an added system message for
     * chat completions, appended instructions for the Responses API.
     */
    static Object withNotice(Object params, OpenAiSite.Api api, String notice) throws ReflectiveOperationException {
        Object builder = params.getClass().getMethod("toBuilder").invoke(params);
        if (api == OpenAiSite.Api.CHAT) {
            builder.getClass().getMethod("addSystemMessage", String.class).invoke(builder, notice);
        } else if (api == OpenAiSite.Api.RESPONSES) {
            Object existing = SdkObjects.get(params, "instructions");
            String instructions = existing instanceof String s && !s.isBlank() ? s + "\n\n" + notice : notice;
            builder.getClass().getMethod("instructions", String.class).invoke(builder, instructions);
        } else {
            return params;
        }
        return builder.getClass().getMethod("build").invoke(builder);
    }

    /** The prompt of a request as JSON text (its messages / input / instructions), or null. */
    static String promptText(Object params) {
        JsonNode body = body(params);
        if (body == null) {
            return null;
        }
        com.fasterxml.jackson.databind.node.ObjectNode prompt = Json.MAPPER.createObjectNode();
        for (String field : PROMPT_FIELDS) {
            if (body.has(field)) {
                prompt.set(field, body.get(field));
            }
        }
        return prompt.toString();
    }

    private static final String[] PROMPT_FIELDS = {"instructions", "messages", "input"};

    /** The request body as openai-java would send it, or null when it cannot be read. */
    private static JsonNode body(Object params) {
        try {
            Object body = SdkObjects.get(params, "_body");
            if (body == null) {
                return null;
            }
            Class<?> mappers = Class.forName("com.openai.core.ObjectMappers", false,
                    params.getClass().getClassLoader());
            Object mapper = mappers.getMethod("jsonMapper").invoke(null);
            Method write = mapper.getClass().getMethod("writeValueAsString", Object.class);
            return Json.MAPPER.readTree((String) write.invoke(mapper, body));
        } catch (ReflectiveOperationException | RuntimeException | java.io.IOException | LinkageError e) {
            return null;
        }
    }

    /**
     * A local estimate of a request's input tokens: the text of its messages / input, by the
     * model's encoding, plus a small per-message overhead. Null when the request cannot be read.
     */
    static Long estimateInputTokens(Object params, String model) {
        JsonNode json = body(params);
        if (json == null) {
            return null;
        }
        StringBuilder text = new StringBuilder();
        int parts = 0;
        for (String field : PROMPT_FIELDS) {
            JsonNode node = json.get(field);
            if (node != null) {
                parts += collectText(node, text);
            }
        }
        return TokenEstimator.estimate(model, text) + (long) TokenEstimator.PER_MESSAGE_OVERHEAD * parts;
    }

    private static int collectText(JsonNode node, StringBuilder text) {
        if (node.isTextual()) {
            text.append(node.asText()).append('\n');
            return 0;
        }
        int parts = 0;
        if (node.isArray()) {
            for (JsonNode element : node) {
                parts += element.isObject() ? 1 : 0;
                parts += collectText(element, text);
            }
        } else if (node.isObject()) {
            for (var it = node.fields(); it.hasNext(); ) {
                var entry = it.next();
                if (!entry.getKey().equals("role") && !entry.getKey().equals("type")) {
                    parts += collectText(entry.getValue(), text);
                }
            }
        }
        return parts;
    }
}
