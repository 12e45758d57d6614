package dev.tokenguard.instrumentation.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenguard.instrumentation.SdkObjects;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Puts the budget note ({@code tokenguard.warnings.inject}) into a Bedrock request as a system message: one more
 * system block of a Converse request; for {@code invokeModel} and its stream, only where the body is an
 * Anthropic Messages body (its {@code system} string appended to, or one more text block), the one model JSON
 * whose system prompt has a known place. The app's request object is never changed: a copy is built.
 */
final class BedrockNotice {
    private static final ObjectMapper JSON = new ObjectMapper();

    private BedrockNotice() {
    }

    /** The request with {@code notice} in it, or {@code request} itself when it has no place for one. */
    static Object withNotice(BedrockApi api, Object request, String notice) throws ReflectiveOperationException {
        ClassLoader loader = request.getClass().getClassLoader();
        String type = BedrockPlugin.MODEL + switch (api) {
            case CONVERSE -> "ConverseRequest";
            case CONVERSE_STREAM -> "ConverseStreamRequest";
            case INVOKE -> "InvokeModelRequest";
            case INVOKE_STREAM -> "InvokeModelWithResponseStreamRequest";
        };
        Class<?> builderType = Class.forName(type + "$Builder", false, loader);
        Object builder = Class.forName(type, false, loader).getMethod("toBuilder").invoke(request);
        if (!api.invoke) {
            Class<?> blockType = Class.forName(BedrockPlugin.MODEL + "SystemContentBlock", false, loader);
            List<Object> system = new ArrayList<>();
            if (SdkObjects.get(request, "system") instanceof List<?> existing) {
                system.addAll(existing);
            }
            system.add(blockType.getMethod("fromText", String.class).invoke(null, notice));
            builderType.getMethod("system", Collection.class).invoke(builder, system);
        } else {
            byte[] body = anthropicBodyWithNotice(BedrockUsage.bytes(SdkObjects.get(request, "body")), notice);
            if (body == null) {
                return request;
            }
            Class<?> bytesType = Class.forName("software.amazon.awssdk.core.SdkBytes", false, loader);
            Object sdkBytes = bytesType.getMethod("fromByteArray", byte[].class).invoke(null, (Object) body);
            builderType.getMethod("body", bytesType).invoke(builder, sdkBytes);
        }
        return builderType.getMethod("build").invoke(builder);
    }

    /** An Anthropic Messages body with the note in its system prompt, or null when the body is no such body. */
    static byte[] anthropicBodyWithNotice(byte[] body, String notice) {
        JsonNode root = BedrockUsage.json(body);
        if (!(root instanceof ObjectNode object) || !root.has("anthropic_version") || !root.path("messages").isArray()) {
            return null;
        }
        JsonNode system = object.get("system");
        if (system != null && system.isArray()) {
            ObjectNode block = ((ArrayNode) system).addObject();
            block.put("type", "text");
            block.put("text", notice);
        } else if (system != null && system.isTextual() && !system.asText().isBlank()) {
            object.put("system", system.asText() + "\n\n" + notice);
        } else {
            object.put("system", notice);
        }
        try {
            return JSON.writeValueAsBytes(object);
        } catch (IOException e) {
            return null;
        }
    }
}
