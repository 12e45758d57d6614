package dev.tokenguard.instrumentation.openai;

/**
 * The openai-java methods TokenGuard governs: the {@code WithRawResponseImpl} layer of the chat
 * completions, Responses and embeddings services, blocking and async, where exactly one physical
 * request happens whichever HTTP client the app configured and whether or not it uses raw responses.
 */
enum OpenAiSite {
    CHAT(Api.CHAT, false, false),
    CHAT_STREAMING(Api.CHAT, true, false),
    CHAT_ASYNC(Api.CHAT, false, true),
    CHAT_ASYNC_STREAMING(Api.CHAT, true, true),
    RESPONSES(Api.RESPONSES, false, false),
    RESPONSES_STREAMING(Api.RESPONSES, true, false),
    RESPONSES_ASYNC(Api.RESPONSES, false, true),
    RESPONSES_ASYNC_STREAMING(Api.RESPONSES, true, true),
    EMBEDDINGS(Api.EMBEDDINGS, false, false),
    EMBEDDINGS_ASYNC(Api.EMBEDDINGS, false, true);

    /** The three OpenAI APIs, with their service classes and GenAI operation names. */
    enum Api {
        CHAT("chat", "chat.ChatCompletionService"),
        RESPONSES("chat", "ResponseService"),
        EMBEDDINGS("embeddings", "EmbeddingService");

        final String operation;
        final String service;

        Api(String operation, String service) {
            this.operation = operation;
            this.service = service;
        }
    }

    static final String SERVICES = "com.openai.services.";

    final Api api;
    final boolean streaming;
    final boolean async;

    OpenAiSite(Api api, boolean streaming, boolean async) {
        this.api = api;
        this.streaming = streaming;
        this.async = async;
    }

    /** The instrumented class, e.g. {@code com.openai.services.blocking.chat.ChatCompletionServiceImpl$WithRawResponseImpl}. */
    String typeName() {
        return typeName(api, async);
    }

    static String typeName(Api api, boolean async) {
        return SERVICES + (async ? "async." : "blocking.") + api.service + (async ? "AsyncImpl" : "Impl")
                + "$WithRawResponseImpl";
    }

    /** The instrumented method's name. */
    String methodName() {
        return streaming ? "createStreaming" : "create";
    }

    /** The site name the advice reports: {@code type.method}. */
    String siteName() {
        return typeName() + "." + methodName();
    }
}
