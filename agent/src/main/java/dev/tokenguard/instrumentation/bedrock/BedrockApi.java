package dev.tokenguard.instrumentation.bedrock;

/** The four Bedrock Runtime operations TokenGuard governs. */
enum BedrockApi {
    /** {@code converse}: the Converse API, usage in {@code ConverseResponse.usage()}. */
    CONVERSE(false, false),
    /** {@code converseStream}: usage in the stream's {@code metadata} event. */
    CONVERSE_STREAM(true, false),
    /** {@code invokeModel}: the model's own JSON; usage in the response's token-count headers. */
    INVOKE(false, true),
    /** {@code invokeModelWithResponseStream}: chunks of the model's own JSON; usage in the invocation metrics. */
    INVOKE_STREAM(true, true);

    final boolean streaming;
    final boolean invoke;

    BedrockApi(boolean streaming, boolean invoke) {
        this.streaming = streaming;
        this.invoke = invoke;
    }

    static BedrockApi of(String method) {
        return switch (method) {
            case "converse" -> CONVERSE;
            case "converseStream" -> CONVERSE_STREAM;
            case "invokeModel" -> INVOKE;
            case "invokeModelWithResponseStream" -> INVOKE_STREAM;
            default -> throw new IllegalArgumentException("not a governed Bedrock operation: " + method);
        };
    }

    /**
     * The GenAI operation of a call to {@code modelId}: {@code embeddings} for embedding models (Titan and
     * Cohere embeddings, through {@code invokeModel}), else {@code chat}.
     */
    String operation(String modelId) {
        return invoke && modelId != null && modelId.toLowerCase(java.util.Locale.ROOT).contains("embed")
                ? "embeddings" : "chat";
    }
}
