package dev.tokenguard.instrumentation.ollama;

import dev.tokenguard.instrumentation.InstalledGovernor;
import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.config.HttpEndpoint;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.sample.stub.FakeOllamaServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.sample.stub.UsageMode;
import dev.tokenguard.sessionlog.SessionLogEvents;
import dev.tokenguard.sessionlog.SessionLogWriter;
import io.github.ollama4j.Ollama;
import io.github.ollama4j.exceptions.OllamaException;
import io.github.ollama4j.models.chat.OllamaChatMessageRole;
import io.github.ollama4j.models.chat.OllamaChatRequest;
import io.github.ollama4j.models.chat.OllamaChatResult;
import io.github.ollama4j.models.embed.OllamaEmbedRequestBuilder;
import io.github.ollama4j.models.embed.OllamaEmbedResult;
import io.github.ollama4j.models.generate.OllamaGenerateRequest;
import io.github.ollama4j.models.generate.OllamaGenerateStreamObserver;
import io.github.ollama4j.models.request.ThinkMode;
import io.github.ollama4j.models.response.OllamaResult;
import io.github.ollama4j.tools.Tools;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ollama4j plugin in this JVM: the real SDK (on the JDK's {@code HttpClient}), the fake Ollama server, the real
 * engine and log. (In this JVM the JDK's own classes cannot reach the agent, so the HTTP layer's staying out of the
 * SDK's requests is proven on the built agent jar, in {@code Ollama4jAgentIT}.)
 */
class Ollama4jInstrumentationTest {
    static final String MODEL = "llama3.2";
    static final String EMBED_MODEL = "all-minilm";
    static FakeOllamaServer server;

    @TempDir
    Path dir;
    Ollama ollama;
    BudgetEngine engine;
    SessionLogWriter log;

    @BeforeAll
    static void startServer() {
        server = FakeOllamaServer.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @BeforeEach
    void start() {
        server.reset();
        ollama = new Ollama(server.baseUrl());
    }

    @AfterEach
    void stop() {
        if (engine != null) {
            engine.close();
            log.close();
        }
    }

    void install(long maxTokens) {
        install(maxTokens, Governor.Settings.DEFAULT);
    }

    void install(long maxTokens, Governor.Settings settings) {
        InstalledGovernor governed = InstalledGovernor.threadBudget(dir, maxTokens, Telemetry.NONE, settings);
        log = governed.log();
        engine = governed.engine();
    }

    static OllamaChatRequest chat(String text) {
        return OllamaChatRequest.builder().withModel(MODEL)
                .withMessage(OllamaChatMessageRole.SYSTEM, "You summarise tickets.")
                .withMessage(OllamaChatMessageRole.USER, text).build();
    }

    static OllamaGenerateRequest generate(String prompt) {
        return OllamaGenerateRequest.builder().withModel(MODEL).withPrompt(prompt).withThink(ThinkMode.DISABLED)
                .build();
    }

    List<JsonNode> events(String event) throws Exception {
        return SessionLogEvents.of(dir, event);
    }

    /** Each llm_call against the server's request of the same position: one charge per request, its counts. */
    List<JsonNode> callsMatchTheServer(int expected) throws Exception {
        List<JsonNode> calls = events("llm_call");
        assertEquals(expected, calls.size(), calls::toString);
        assertEquals(expected, server.requestCount());
        for (int i = 0; i < expected; i++) {
            RecordedRequest served = server.requests().get(i);
            JsonNode call = calls.get(i);
            boolean embed = served.path().equals("/api/embed");
            assertEquals(served.usage().inputTokens(), call.get("input_tokens").asLong(), call.toString());
            if (embed) {
                assertTrue(call.get("output_tokens").isNull(), call.toString());
                assertEquals("embeddings", call.get("operation").asText());
            } else {
                assertEquals(served.usage().outputTokens(), call.get("output_tokens").asLong(), call.toString());
                assertEquals(served.path().equals("/api/chat") ? "chat" : "text_completion",
                        call.get("operation").asText());
            }
            assertEquals(served.usage().inputTokens() + (embed ? 0 : served.usage().outputTokens()),
                    call.get("total_tokens").asLong());
            assertEquals("ollama", call.get("provider").asText());
            assertEquals("provider", call.get("usage_source").asText());
            assertEquals("ok", call.get("status").asText());
            assertTrue(call.get("cost_usd").isNull(), "Ollama's models are not priced: " + call);
            assertEquals("127.0.0.1", served.header("host").replaceAll(":.*", ""));
        }
        return calls;
    }

    @Test
    void aChatIsChargedOnceWithTheServersCounts() throws Exception {
        install(1_000_000);
        OllamaChatResult result = ollama.chat(chat("hello"), null);
        JsonNode call = callsMatchTheServer(1).get(0);
        assertEquals(result.getResponseModel().getPromptEvalCount(), call.get("input_tokens").asInt());
        assertEquals(result.getResponseModel().getEvalCount(), call.get("output_tokens").asInt());
        assertEquals(MODEL, call.get("request_model").asText());
        assertEquals(MODEL, call.get("response_model").asText());
        assertFalse(call.get("streaming").asBoolean());
    }

    @Test
    void aChatStreamIsChargedOnceWithTheCountsOfItsLastLine() throws Exception {
        install(1_000_000);
        List<String> pieces = new ArrayList<>();
        OllamaChatResult result = ollama.chat(chat("stream it"), part -> pieces.add(part.getMessage().getResponse()));
        assertTrue(pieces.size() > 1, "the handler saw the stream piece by piece: " + pieces);
        assertTrue(server.lastRequest().body().contains("\"stream\":true"), server.lastRequest().body());
        JsonNode call = callsMatchTheServer(1).get(0);
        assertTrue(call.get("streaming").asBoolean());
        assertEquals(result.getResponseModel().getEvalCount(), call.get("output_tokens").asInt());
    }

    @Test
    void generateAndItsStreamAreChargedOnceEach() throws Exception {
        install(1_000_000);
        OllamaResult plain = ollama.generate(generate("Summarise: printer on fire"), null);
        List<String> pieces = new ArrayList<>();
        OllamaResult streamed = ollama.generate(generate("Summarise: coffee machine empty").withStreaming(true),
                new OllamaGenerateStreamObserver(null, pieces::add));
        assertTrue(pieces.size() > 1, pieces::toString);
        List<JsonNode> calls = callsMatchTheServer(2);
        assertEquals(plain.getPromptEvalCount(), calls.get(0).get("input_tokens").asInt());
        assertEquals(streamed.getEvalCount(), calls.get(1).get("output_tokens").asInt());
        assertEquals(List.of(false, true), calls.stream().map(c -> c.get("streaming").asBoolean()).toList());
    }

    @Test
    void embeddingsAreChargedTheirInputOnly() throws Exception {
        install(1_000_000);
        OllamaEmbedResult result = ollama.embed(OllamaEmbedRequestBuilder.getInstance(EMBED_MODEL,
                "a ticket", "another ticket").build());
        assertEquals(2, result.getEmbeddings().size());
        JsonNode call = callsMatchTheServer(1).get(0);
        assertEquals(result.getPromptEvalCount(), call.get("input_tokens").asInt());
        assertEquals(EMBED_MODEL, call.get("request_model").asText());
    }

    @Test
    void anExhaustedBudgetRefusesEveryKindOfCallBeforeAnyRequestLeaves() throws Exception {
        install(1);
        ollama.chat(chat("the only call"), null);
        assertEquals(1, server.requestCount());
        BudgetExhaustedException refusal = assertThrows(BudgetExhaustedException.class,
                () -> ollama.chat(chat("refused"), null), "the refusal itself, not wrapped in OllamaException");
        assertTrue(refusal.getMessage().endsWith("refused ollama chat " + MODEL), refusal.getMessage());
        assertThrows(BudgetExhaustedException.class, () -> ollama.chat(chat("no"), part -> { }));
        assertThrows(BudgetExhaustedException.class, () -> ollama.generate(generate("no"), null));
        assertThrows(BudgetExhaustedException.class, () -> ollama.generate(generate("no").withStreaming(true),
                new OllamaGenerateStreamObserver(null, piece -> { })));
        assertThrows(BudgetExhaustedException.class,
                () -> ollama.embed(OllamaEmbedRequestBuilder.getInstance(EMBED_MODEL, "no").build()));
        assertEquals(1, server.requestCount(), "no refused request reached the server");
        assertEquals(5, events("budget_exceeded").size());
        assertEquals(1, events("llm_call").size());
    }

    @Test
    void aResponseWithoutCountsIsChargedAnEstimateMarkedSo() throws Exception {
        install(1_000_000);
        server.setUsageMode(UsageMode.ABSENT);
        ollama.chat(chat("no counts here"), null);
        ollama.chat(chat("no counts in this stream"), part -> { });
        ollama.generate(generate("no counts either"), null);
        ollama.embed(OllamaEmbedRequestBuilder.getInstance(EMBED_MODEL, "no count for this text").build());
        List<JsonNode> calls = events("llm_call");
        assertEquals(4, calls.size());
        assertEquals(4, server.requestCount());
        for (JsonNode call : calls) {
            assertEquals("estimated", call.get("usage_source").asText(), call.toString());
            assertTrue(call.get("input_tokens").asLong() > 0, call.toString());
        }
        for (int i = 0; i < 3; i++) {
            assertTrue(calls.get(i).get("output_tokens").asLong() > 0, calls.get(i).toString());
        }
        assertTrue(calls.get(3).get("output_tokens").isNull());
    }

    @Test
    void aFailedCallIsLoggedAsAnErrorAndChargesNothing() throws Exception {
        install(1_000_000);
        server.setFailNext(500);
        assertThrows(OllamaException.class, () -> ollama.chat(chat("broken"), null));
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size());
        assertEquals(1, server.requestCount());
        assertEquals("error", calls.get(0).get("status").asText());
        assertTrue(calls.get(0).get("input_tokens").isNull(), calls.get(0).toString());
        assertEquals(0, calls.get(0).get("budget").get(0).get("used").asLong());
    }

    /** A stream whose handler gives up at its first piece is charged once, for what arrived or an estimate. */
    @Test
    void aStreamAbandonedByItsHandlerIsChargedOnce() throws Exception {
        install(1_000_000);
        assertThrows(OllamaException.class, () -> ollama.chat(chat("abandoned"), part -> {
            throw new IllegalStateException("the app stops reading");
        }));
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size());
        assertEquals(1, server.requestCount());
        JsonNode call = calls.get(0);
        assertEquals("error", call.get("status").asText());
        assertEquals("estimated", call.get("usage_source").asText(), call.toString());
        assertTrue(call.get("input_tokens").asLong() > 0, call.toString());
        assertEquals(call.get("total_tokens").asLong(), call.get("budget").get(0).get("used").asLong());
    }

    /** A chat with a tool the model calls: ollama4j runs the tool and asks again, two requests in one chat. */
    static OllamaChatRequest chatWithTool(String text, AtomicInteger runs) {
        Tools.Tool tool = Tools.Tool.builder()
                .toolSpec(Tools.ToolSpec.builder().name("ticket_priority")
                        .description("Looks up the priority of a support ticket")
                        .parameters(Tools.Parameters.of(Map.of("ticket", Tools.Property.builder().type("string")
                                .description("the ticket's number").required(true).build())))
                        .build())
                .toolFunction(arguments -> {
                    runs.incrementAndGet();
                    return "high";
                })
                .build();
        return OllamaChatRequest.builder().withModel(MODEL).withMessage(OllamaChatMessageRole.USER, text)
                .withTools(new ArrayList<>(List.of(tool))).withUseTools(true).build();
    }

    @Test
    void eachRequestOfAToolLoopIsChargedOnce() throws Exception {
        install(1_000_000);
        AtomicInteger runs = new AtomicInteger();
        OllamaChatResult result = ollama.chat(chatWithTool("How urgent is ticket 7?", runs), null);
        assertEquals(1, runs.get());
        assertTrue(server.requests().get(0).body().contains("\"tools\""), server.requests().get(0).body());
        assertTrue(server.requests().get(1).body().contains("\"role\":\"tool\""), server.requests().get(1).body());
        List<JsonNode> calls = callsMatchTheServer(2);
        assertEquals(result.getResponseModel().getEvalCount(), calls.get(1).get("output_tokens").asInt());
    }

    @Test
    void aRefusalBetweenTheRoundsOfAToolLoopLeavesTheChatAsItself() throws Exception {
        install(1);
        AtomicInteger runs = new AtomicInteger();
        BudgetExhaustedException refusal = assertThrows(BudgetExhaustedException.class,
                () -> ollama.chat(chatWithTool("How urgent is ticket 8?", runs), null));
        assertTrue(refusal.getMessage().endsWith("refused ollama chat " + MODEL), refusal.getMessage());
        assertEquals(1, runs.get(), "the tool ran after the first round; the second round was refused");
        callsMatchTheServer(1);
        assertEquals(1, events("budget_exceeded").size());
    }

    @Test
    void theFakeServersUrlAmongTheHttpEndpointsChangesNothing() throws Exception {
        install(1_000_000, new Governor.Settings(false, false, null,
                List.of(new HttpEndpoint(URI.create(server.baseUrl()), "ollama")), null));
        ollama.chat(chat("one"), null);
        ollama.chat(chat("two"), part -> { });
        ollama.embed(OllamaEmbedRequestBuilder.getInstance(EMBED_MODEL, "three").build());
        callsMatchTheServer(3);
    }
}
