package dev.tokenguard.instrumentation.http;

/**
 * One LLM API as it appears on the wire: its format family and the GenAI operation it performs. The API of a
 * request is told by its path alone ({@code /chat/completions}, {@code /messages}, {@code :generateContent}, ...),
 * because each API's path has a shape no other one shares.
 */
public enum WireApi {
    OPENAI_CHAT(WireFormat.OPENAI, "chat"),
    OPENAI_RESPONSES(WireFormat.OPENAI, "chat"),
    OPENAI_COMPLETIONS(WireFormat.OPENAI, "text_completion"),
    OPENAI_EMBEDDINGS(WireFormat.OPENAI, "embeddings"),
    ANTHROPIC_MESSAGES(WireFormat.ANTHROPIC, "chat"),
    GEMINI_GENERATE(WireFormat.GEMINI, "generate_content"),
    GEMINI_EMBED(WireFormat.GEMINI, "embeddings"),
    OLLAMA_CHAT(WireFormat.OLLAMA, "chat"),
    OLLAMA_GENERATE(WireFormat.OLLAMA, "text_completion"),
    OLLAMA_EMBED(WireFormat.OLLAMA, "embeddings");

    private final WireFormat format;
    private final String operation;

    WireApi(WireFormat format, String operation) {
        this.format = format;
        this.operation = operation;
    }

    public WireFormat format() {
        return format;
    }

    /** The GenAI semantic-convention operation name ({@code gen_ai.operation.name}). */
    public String operation() {
        return operation;
    }

    /** Whether a response of this API has output tokens (embeddings have none). */
    public boolean hasOutput() {
        return !operation.equals("embeddings");
    }
}
