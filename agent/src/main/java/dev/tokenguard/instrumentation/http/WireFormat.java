package dev.tokenguard.instrumentation.http;

/** The families of LLM wire formats whose usage the raw-HTTP fallback can read. */
public enum WireFormat {
    /** OpenAI's REST API and the many servers compatible with it (Azure OpenAI, Mistral, Groq, vLLM, ...). */
    OPENAI,
    /** Anthropic's Messages API. */
    ANTHROPIC,
    /** Google's Gemini API ({@code generativelanguage.googleapis.com}). */
    GEMINI,
    /** Ollama's native API ({@code /api/chat}, {@code /api/generate}, {@code /api/embed}). */
    OLLAMA
}
