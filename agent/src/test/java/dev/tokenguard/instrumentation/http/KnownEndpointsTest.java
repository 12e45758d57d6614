package dev.tokenguard.instrumentation.http;

import dev.tokenguard.config.HttpEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URI;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class KnownEndpointsTest {
    private final KnownEndpoints endpoints = new KnownEndpoints(List.of(
            new HttpEndpoint(URI.create("http://llm.internal:8000"), null),
            new HttpEndpoint(URI.create("https://gw.example.com/anthropic/"), "anthropic"),
            new HttpEndpoint(URI.create("http://ollama:11434"), "ollama"),
            new HttpEndpoint(URI.create("https://api.openai.com/v1"), "my-openai")));

    @ParameterizedTest(name = "{0}")
    @CsvSource(nullValues = "-", value = {
            // url, provider, api, path model, streaming path, asks for stream usage, host, port
            "https://api.openai.com/v1/chat/completions, my-openai, OPENAI_CHAT, -, false, true, api.openai.com, 443",
            "https://api.openai.com/v1/responses, my-openai, OPENAI_RESPONSES, -, false, true, api.openai.com, 443",
            "https://my-res.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21,"
                    + " azure.ai.openai, OPENAI_CHAT, gpt4o-prod, false, true, my-res.openai.azure.com, 443",
            "https://my-res.openai.azure.com/openai/deployments/emb/embeddings?api-version=2024-10-21,"
                    + " azure.ai.openai, OPENAI_EMBEDDINGS, emb, false, true, my-res.openai.azure.com, 443",
            "https://my-res.cognitiveservices.azure.com/openai/v1/responses, azure.ai.openai, OPENAI_RESPONSES, -,"
                    + " false, true, my-res.cognitiveservices.azure.com, 443",
            "https://api.anthropic.com/v1/messages, anthropic, ANTHROPIC_MESSAGES, -, false, false, api.anthropic.com, 443",
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent, gcp.gemini,"
                    + " GEMINI_GENERATE, gemini-2.5-flash, false, false, generativelanguage.googleapis.com, 443",
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse,"
                    + " gcp.gemini, GEMINI_GENERATE, gemini-2.0-flash, true, false, generativelanguage.googleapis.com, 443",
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:embedContent, gcp.gemini,"
                    + " GEMINI_EMBED, gemini-embedding-001, false, false, generativelanguage.googleapis.com, 443",
            "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions, gcp.gemini, OPENAI_CHAT, -,"
                    + " false, false, generativelanguage.googleapis.com, 443",
            "https://api.mistral.ai/v1/chat/completions, mistral_ai, OPENAI_CHAT, -, false, false, api.mistral.ai, 443",
            "https://api.mistral.ai/v1/fim/completions, mistral_ai, OPENAI_COMPLETIONS, -, false, false, api.mistral.ai, 443",
            "https://api.groq.com/openai/v1/chat/completions, groq, OPENAI_CHAT, -, false, false, api.groq.com, 443",
            "https://api.deepseek.com/chat/completions, deepseek, OPENAI_CHAT, -, false, true, api.deepseek.com, 443",
            "https://api.deepseek.com/anthropic/v1/messages, deepseek, ANTHROPIC_MESSAGES, -, false, true, api.deepseek.com, 443",
            "https://openrouter.ai/api/v1/chat/completions, openrouter, OPENAI_CHAT, -, false, false, openrouter.ai, 443",
            "https://api.together.xyz/v1/completions, together, OPENAI_COMPLETIONS, -, false, false, api.together.xyz, 443",
            "https://API.Together.ai/v1/embeddings, together, OPENAI_EMBEDDINGS, -, false, false, api.together.ai, 443",
            "http://llm.internal:8000/v1/chat/completions, openai, OPENAI_CHAT, -, false, true, llm.internal, 8000",
            "http://llm.internal:8000/v1/messages, anthropic, ANTHROPIC_MESSAGES, -, false, false, llm.internal, 8000",
            "https://gw.example.com/anthropic/v1/messages, anthropic, ANTHROPIC_MESSAGES, -, false, false, gw.example.com, 443",
            "https://gw.example.com:443/anthropic/v1/messages/, anthropic, ANTHROPIC_MESSAGES, -, false, false,"
                    + " gw.example.com, 443",
            "http://ollama:11434/api/chat, ollama, OLLAMA_CHAT, -, false, true, ollama, 11434",
            "http://ollama:11434/api/generate, ollama, OLLAMA_GENERATE, -, false, true, ollama, 11434",
            "http://ollama:11434/api/embed, ollama, OLLAMA_EMBED, -, false, true, ollama, 11434",
            "http://ollama:11434/v1/chat/completions, ollama, OPENAI_CHAT, -, false, true, ollama, 11434",
    })
    void governed(String url, String provider, WireApi api, String model, boolean streamingPath, boolean asks,
                  String host, int port) {
        assertEquals(new LlmRoute(provider, api, model, streamingPath, asks, host, port), endpoints.match("POST", url));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "https://api.anthropic.com/v1/messages/count_tokens",
            "https://api.anthropic.com/v1/messages/batches",
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:countTokens",
            "https://api.openai.com/v1/files",
            "https://api.openai.com/v1/responses/resp_123/cancel",
            "https://api.openai.com/v1/chat/completions/chatcmpl-1",
            "https://example.com/v1/chat/completions",
            "https://llm.internal/v1/chat/completions",
            "http://llm.internal:8001/v1/chat/completions",
            "https://gw.example.com/anthropicx/v1/messages",
            "https://gw.example.com/other/v1/messages",
            "ftp://api.openai.com/v1/chat/completions",
            "/v1/chat/completions",
            "not a url"})
    void leftAlone(String url) {
        assertNull(endpoints.match("POST", url));
    }

    @Test
    void onlyPostsAreGoverned() {
        assertNull(endpoints.match("GET", "https://api.openai.com/v1/chat/completions"));
        assertNull(endpoints.match(null, "https://api.openai.com/v1/chat/completions"));
        assertEquals(WireApi.OPENAI_CHAT, endpoints.match("post", "https://api.openai.com/v1/chat/completions").api());
    }

    @Test
    void withoutConfiguredEndpointsTheProvidersOwnNamesApply() {
        LlmRoute r = new KnownEndpoints(List.of()).match("POST", "https://api.openai.com/v1/embeddings");
        assertEquals(new LlmRoute("openai", WireApi.OPENAI_EMBEDDINGS, null, false, true, "api.openai.com", 443), r);
        assertEquals("embeddings", r.operation());
        assertEquals(WireFormat.OPENAI, r.format());
    }

    @Test
    void anSdksResourcePathNamesItsApiModelAndStreamingWithOrWithoutQuery() {
        assertEquals(new LlmRoute("gcp.gemini", WireApi.GEMINI_GENERATE, "gemini-2.5-flash", true, false, "h", 80),
                KnownEndpoints.sdkRoute("gcp.gemini", "models/gemini-2.5-flash:streamGenerateContent?alt=sse", "h",
                        80));
        assertEquals(new LlmRoute("gcp.vertex_ai", WireApi.GEMINI_GENERATE, "gemini-2.5-pro", false, false,
                        "aiplatform.googleapis.com", 443), KnownEndpoints.sdkRoute("gcp.vertex_ai",
                "projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent",
                "aiplatform.googleapis.com", 443));
        assertEquals(WireApi.GEMINI_EMBED, KnownEndpoints.sdkRoute("gcp.gemini",
                "models/gemini-embedding-001:batchEmbedContents", null, -1).api());
        assertNull(KnownEndpoints.sdkRoute("gcp.gemini", "models/gemini-2.5-flash:countTokens", null, -1));
        assertNull(KnownEndpoints.sdkRoute("gcp.gemini", "files", null, -1));
        assertNull(KnownEndpoints.sdkRoute("gcp.gemini", null, null, -1));
    }
}
