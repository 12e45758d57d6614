package dev.tokenguard.instrumentation.openai;

import dev.tokenguard.instrumentation.SdkObjects;

import java.net.URI;
import java.util.List;

/**
 * Adjusts openai-java request parameters: {@code stream_options.include_usage} for chat streams, and
 * the budget note (a system or developer message for chat, appended instructions for Responses).
 * The app's own request objects are never changed: each adjustment builds a copy.
 */
final class OpenAiRequests {
    static final String STREAM_OPTIONS = "com.openai.models.chat.completions.ChatCompletionStreamOptions";

    private OpenAiRequests() {
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
        Class<?> optionsType = Class.forName(STREAM_OPTIONS, false, params.getClass().getClassLoader());
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
     * The same chat request with {@code notice} as one more message: a {@code developer} message where
     * the request already uses developer messages, a {@code system} message otherwise.
     */
    static Object withChatNotice(Object params, String notice) throws ReflectiveOperationException {
        Object builder = params.getClass().getMethod("toBuilder").invoke(params);
        String adder = usesDeveloperMessages(params) ? "addDeveloperMessage" : "addSystemMessage";
        builder.getClass().getMethod(adder, String.class).invoke(builder, notice);
        return builder.getClass().getMethod("build").invoke(builder);
    }

    private static boolean usesDeveloperMessages(Object params) {
        if (SdkObjects.get(params, "messages") instanceof List<?> messages) {
            for (Object message : messages) {
                if (Boolean.TRUE.equals(SdkObjects.get(message, "isDeveloper"))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The same Responses request with {@code notice} appended to its instructions. */
    static Object withInstructionsNotice(Object params, String notice) throws ReflectiveOperationException {
        Object builder = params.getClass().getMethod("toBuilder").invoke(params);
        Object existing = SdkObjects.get(params, "instructions");
        String instructions = existing instanceof String s && !s.isBlank() ? s + "\n\n" + notice : notice;
        builder.getClass().getMethod("instructions", String.class).invoke(builder, instructions);
        return builder.getClass().getMethod("build").invoke(builder);
    }
}
