package dev.tokenguard.instrumentation.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sessionlog.SessionLogEvents;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.ChatModel;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseStreamEvent;
import dev.tokenguard.agent.AgentInstaller;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.UsageMode;
import dev.tokenguard.sessionlog.SessionLogWriter;
import net.bytebuddy.agent.ByteBuddyAgent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An OpenAI-compatible server that sends no readable usage (none, null, renamed fields): every
 * call is still charged once, with a local estimate marked {@code estimated}, never 0.
 */
class OpenAiUnreadableUsageTest {
    @TempDir
    Path dir;
    FakeOpenAiServer server;
    OpenAIClient client;
    BudgetEngine engine;
    SessionLogWriter log;

    @BeforeEach
    void start() {
        server = FakeOpenAiServer.start();
        client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("sk-x").maxRetries(0).build();
        log = new SessionLogWriter(dir, "test", 1, Clock.systemUTC(), line -> {
            throw new AssertionError(line);
        });
        engine = new BudgetEngine(List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD, 1_000_000L, null,
                null, null, null, new double[] {0.75, 0.9, 0.95}, EnforcementMode.ENFORCE)), Clock.systemUTC(),
                MdcSource.NONE, log.sessionListener());
        AgentInstaller.install(new Governor(engine, log, Telemetry.NONE, Clock.systemUTC()), ByteBuddyAgent.install());
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
        engine.close();
        log.close();
    }

    List<JsonNode> calls() throws Exception {
        return SessionLogEvents.of(dir, "llm_call");
    }

    @ParameterizedTest
    @EnumSource(value = UsageMode.class, names = {"ABSENT", "NULL", "RENAMED"})
    void everyCallIsChargedAnEstimateMarkedSo(UsageMode mode) throws Exception {
        server.setUsageMode(mode);
        client.chat().completions().create(ChatCompletionCreateParams.builder().model(ChatModel.GPT_4O_MINI)
                .addUserMessage("The printer on floor 3 jams every morning").build());
        ChatCompletionCreateParams streamed = ChatCompletionCreateParams.builder().model(ChatModel.GPT_4O_MINI)
                .addUserMessage("The VPN drops every hour").build();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(streamed)) {
            assertTrue(stream.stream().count() > 1);
        }
        client.responses().create(ResponseCreateParams.builder().model(ChatModel.GPT_4O_MINI)
                .input("Summarise: the disk is full").build());
        try (StreamResponse<ResponseStreamEvent> stream = client.responses().createStreaming(ResponseCreateParams
                .builder().model(ChatModel.GPT_4O_MINI).input("Summarise: the fan is loud").build())) {
            assertTrue(stream.stream().count() > 1);
        }
        assertEquals(4, server.requestCount());
        List<JsonNode> calls = calls();
        assertEquals(4, calls.size(), calls::toString);
        long charged = 0;
        for (JsonNode call : calls) {
            assertEquals("estimated", call.get("usage_source").asText(), call.toString());
            assertEquals("ok", call.get("status").asText(), call.toString());
            assertTrue(call.get("input_tokens").asLong() > 0, call.toString());
            assertTrue(call.get("output_tokens").asLong() > 0, "the answer's text was counted: " + call);
            charged += call.get("total_tokens").asLong();
        }
        assertEquals(charged, calls.get(3).get("budget").get(0).get("used").asLong(), "every estimate was charged");
    }

    @org.junit.jupiter.api.Test
    void aCutOffBodyIsChargedAnEstimateAnErrorStatusNothing() throws Exception {
        com.sun.net.httpserver.HttpServer broken = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        broken.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            boolean limited = exchange.getRequestURI().getPath().startsWith("/limited/");
            byte[] body = (limited ? "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\"}}"
                    : "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("content-type", "application/json");
            exchange.sendResponseHeaders(limited ? 429 : 200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        broken.start();
        String base = "http://127.0.0.1:" + broken.getAddress().getPort();
        try {
            List<String> seen = new ArrayList<>();
            for (String path : List.of("/cut/v1", "/limited/v1")) {
                OpenAIClient c = OpenAIOkHttpClient.builder().baseUrl(base + path).apiKey("sk-x").maxRetries(0).build();
                try {
                    c.chat().completions().create(ChatCompletionCreateParams.builder().model(ChatModel.GPT_4O_MINI)
                            .addUserMessage("The printer on floor 3 jams every morning").build());
                } catch (RuntimeException e) {
                    seen.add(e.getClass().getSimpleName());
                } finally {
                    c.close();
                }
            }
            assertEquals(List.of("OpenAIInvalidDataException", "RateLimitException"), seen);
        } finally {
            broken.stop(0);
        }
        List<JsonNode> calls = calls();
        assertEquals(2, calls.size(), calls::toString);
        JsonNode cut = calls.get(0);
        assertEquals("error", cut.get("status").asText(), cut.toString());
        assertEquals("estimated", cut.get("usage_source").asText(), cut.toString());
        assertTrue(cut.get("input_tokens").asLong() > 0, "the provider answered 200: its input was spent: " + cut);
        JsonNode limited = calls.get(1);
        assertEquals("error", limited.get("status").asText(), limited.toString());
        assertEquals(0, limited.path("total_tokens").asLong(0), "a 429 cost nothing: " + limited);
    }

    @org.junit.jupiter.api.Test
    void aRawResponseClosedUnparsedIsChargedAnEstimate() throws Exception {
        client.chat().completions().withRawResponse().create(ChatCompletionCreateParams.builder()
                .model(ChatModel.GPT_4O_MINI).addUserMessage("The printer on floor 3 jams every morning").build()).close();
        assertEquals(1, server.requestCount());
        List<JsonNode> calls = calls();
        assertEquals(1, calls.size(), calls::toString);
        assertEquals("estimated", calls.get(0).get("usage_source").asText(), calls.toString());
        assertTrue(calls.get(0).get("input_tokens").asLong() > 0, calls.toString());
    }
}
