package dev.tokenguard.instrumentation.stainless;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenguard.core.TokenEstimator;
import dev.tokenguard.instrumentation.SdkObjects;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.URI;
import java.util.List;

/**
 * Reads the request side of a Stainless SDK call: the model asked for, the base URL of the client
 * the service belongs to, the body as the SDK would send it, and a local estimate of its input tokens.
 */
public final class StainlessRequests {
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

    private StainlessRequests() {
    }

    /** The model a request asks for, or null. */
    public static String model(Object params) {
        return SdkObjects.text(params, "model");
    }

    /**
     * The base URL of the client a service belongs to ({@code clientOptions.baseUrl()}), or null where
     * the SDK version keeps it elsewhere: the server address is then left unknown, never guessed.
     */
    public static URI baseUrl(Object service) {
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

    /** The prompt of a request as JSON text (its {@code fields}), or null. */
    public static String promptText(StainlessSdk sdk, Object params, List<String> fields) {
        JsonNode body = body(sdk, params);
        if (body == null) {
            return null;
        }
        ObjectNode prompt = Json.MAPPER.createObjectNode();
        for (String field : fields) {
            if (body.has(field)) {
                prompt.set(field, body.get(field));
            }
        }
        return prompt.toString();
    }

    /** The request body as the SDK would send it, or null when it cannot be read. */
    static JsonNode body(StainlessSdk sdk, Object params) {
        try {
            Object body = SdkObjects.get(params, "_body");
            if (body == null) {
                return null;
            }
            Class<?> mappers = Class.forName(sdk.objectMappers(), false, params.getClass().getClassLoader());
            Object mapper = mappers.getMethod("jsonMapper").invoke(null);
            Method write = mapper.getClass().getMethod("writeValueAsString", Object.class);
            return Json.MAPPER.readTree((String) write.invoke(mapper, body));
        } catch (ReflectiveOperationException | RuntimeException | java.io.IOException | LinkageError e) {
            return null;
        }
    }

    /**
     * A local estimate of a request's input tokens: the text of its prompt fields, by the model's
     * encoding, plus a small per-message overhead. Null when the request cannot be read.
     */
    public static Long estimateInputTokens(StainlessSdk sdk, Object params, List<String> fields, String model) {
        JsonNode json = body(sdk, params);
        if (json == null) {
            return null;
        }
        StringBuilder text = new StringBuilder();
        int parts = 0;
        for (String field : fields) {
            JsonNode node = json.get(field);
            if (node != null) {
                parts += collectText(node, text);
            }
        }
        return TokenEstimator.estimate(model, text) + (long) TokenEstimator.PER_MESSAGE_OVERHEAD * parts;
    }

    /**
     * What a call reserves from its request before it is sent: the text of its prompt fields and its own output cap.
     *
     * @param text      the prompt's text, or null when the request cannot be read
     * @param outputCap {@code max_completion_tokens}, {@code max_tokens} or {@code max_output_tokens}; null for none
     */
    public record Reservable(String text, Long outputCap) {
    }

    /** The text and output cap of a request; null when the request cannot be read. */
    public static Reservable reservable(StainlessSdk sdk, Object params, List<String> fields) {
        JsonNode json = body(sdk, params);
        if (json == null) {
            return null;
        }
        StringBuilder text = new StringBuilder();
        for (String field : fields) {
            JsonNode node = json.get(field);
            if (node != null) {
                collectText(node, text);
            }
        }
        Long cap = null;
        for (String field : List.of("max_completion_tokens", "max_tokens", "max_output_tokens")) {
            JsonNode node = json.get(field);
            if (node != null && node.canConvertToLong() && node.asLong() > 0) {
                cap = node.asLong();
                break;
            }
        }
        return new Reservable(text.toString(), cap);
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
                if (!entry.getKey().equals("role") && !entry.getKey().equals("type")
                        && !entry.getKey().equals("cache_control")) {
                    parts += collectText(entry.getValue(), text);
                }
            }
        }
        return parts;
    }
}
