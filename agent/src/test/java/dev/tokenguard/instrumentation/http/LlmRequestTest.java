package dev.tokenguard.instrumentation.http;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LlmRequestTest {
    private final KnownEndpoints endpoints = new KnownEndpoints(List.of());

    private LlmRequest read(String url, String body) {
        return LlmRequest.read(endpoints.match("POST", url), body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void openAiChatStream() {
        assertEquals(new LlmRequest("gpt-4o-mini", true, 256L, true, "Be brief.\nWie geht's? 🙂", true),
                read("https://api.openai.com/v1/chat/completions", """
                        {"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},\
                        {"role":"user","content":[{"type":"text","text":"Wie geht's? 🙂"},\
                        {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}],\
                        "stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":256,"max_tokens":100}"""));
    }

    @Test
    void openAiResponsesAndEmbeddings() {
        assertEquals(new LlmRequest("o4-mini", false, 500L, false, "Answer in French.\nHello", true),
                read("https://api.openai.com/v1/responses", "{\"model\":\"o4-mini\",\"instructions\":\"Answer in French.\","
                        + "\"input\":\"Hello\",\"max_output_tokens\":500}"));
        assertEquals(new LlmRequest("text-embedding-3-small", false, null, false, "one\ntwo", true),
                read("https://api.openai.com/v1/embeddings", "{\"model\":\"text-embedding-3-small\",\"input\":[\"one\",\"two\"]}"));
    }

    @Test
    void azureTakesTheModelFromTheDeploymentWhenTheBodyHasNone() {
        assertEquals(new LlmRequest("gpt4o-prod", false, 50L, false, "Hi", true),
                read("https://r.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21",
                        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":50,\"stream\":false}"));
    }

    @Test
    void anthropic() {
        assertEquals(new LlmRequest("claude-sonnet-4-20250514", false, 1024L, false, "You are terse.\nHallo", true),
                read("https://api.anthropic.com/v1/messages", "{\"model\":\"claude-sonnet-4-20250514\",\"max_tokens\":1024,"
                        + "\"system\":\"You are terse.\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
                        + "\"text\":\"Hallo\"}]}]}"));
    }

    @Test
    void geminiTakesModelAndStreamingFromThePath() {
        String body = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Explain dice\"}]}],"
                + "\"generationConfig\":{\"maxOutputTokens\":800,\"temperature\":0.2}}";
        assertEquals(new LlmRequest("gemini-2.0-flash", true, 800L, false, "Explain dice", true),
                read("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
                        body));
        assertEquals(new LlmRequest("gemini-2.0-flash", false, 800L, false, "Explain dice", true),
                read("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent", body));
    }

    @Test
    void geminiEmbeddingsNameTheModelAsThePathDoesNotAsTheBodysResourceName() {
        // the Gemini API wants the body's "model" as a resource name, "models/<model>"; the path names the model
        assertEquals(new LlmRequest("gemini-embedding-001", false, null, false, "refund request", true),
                read("https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:embedContent",
                        "{\"model\":\"models/gemini-embedding-001\",\"content\":{\"parts\":[{\"text\":"
                                + "\"refund request\"}]},\"outputDimensionality\":8}"));
        assertEquals(new LlmRequest("gemini-embedding-001", false, null, false, "a\nb", true),
                read("https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents",
                        "{\"requests\":[{\"model\":\"models/gemini-embedding-001\",\"content\":{\"parts\":"
                                + "[{\"text\":\"a\"}]}},{\"model\":\"models/gemini-embedding-001\",\"content\":"
                                + "{\"parts\":[{\"text\":\"b\"}]}}]}"));
    }

    @Test
    void ollamaStreamsUnlessTold() {
        KnownEndpoints ollama = new KnownEndpoints(List.of(new dev.tokenguard.config.HttpEndpoint(
                java.net.URI.create("http://ollama:11434"), "ollama")));
        LlmRoute chat = ollama.match("POST", "http://ollama:11434/api/chat");
        assertEquals(new LlmRequest("llama3.2", true, 128L, false, "why is the sky blue?", true),
                LlmRequest.read(chat, ("{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":"
                        + "\"why is the sky blue?\"}],\"options\":{\"num_predict\":128}}").getBytes(StandardCharsets.UTF_8)));
        assertEquals(new LlmRequest("llama3.2", false, null, false, "why?", true),
                LlmRequest.read(ollama.match("POST", "http://ollama:11434/api/generate"), ("{\"model\":\"llama3.2\","
                        + "\"prompt\":\"why?\",\"stream\":false,\"options\":{\"num_predict\":-1}}").getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aBodyThatIsNotJsonIsUnreadable() {
        assertEquals(new LlmRequest(null, false, null, false, "", false),
                read("https://api.openai.com/v1/chat/completions", "model=gpt-4o"));
    }
}
