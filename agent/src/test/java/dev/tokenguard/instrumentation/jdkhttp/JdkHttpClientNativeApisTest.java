package dev.tokenguard.instrumentation.jdkhttp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.config.HttpEndpoint;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.GovernedCall;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.sample.stub.FakeGeminiServer;
import dev.tokenguard.sample.stub.FakeOllamaServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.sessionlog.SessionLogEvents;
import dev.tokenguard.sessionlog.SessionLogWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The jdk-http-client plugin on the native APIs of Ollama and Gemini, driven in this JVM as its advice drives it
 * (see {@link JdkHttpClientInstrumentationTest}), the way LangChain4j sends them: {@code sendAsync} with
 * {@code ofInputStream}. These streams report their usage unasked, so the request goes exactly as the app built
 * it and the app reads exactly what the server sent.
 */
class JdkHttpClientNativeApisTest {
    @TempDir
    Path dir;
    FakeOllamaServer ollama;
    FakeGeminiServer gemini;
    HttpClient client;
    BudgetEngine engine;
    SessionLogWriter log;
    Governor governor;

    @BeforeEach
    void start() {
        ollama = FakeOllamaServer.start();
        gemini = FakeGeminiServer.start();
        client = HttpClient.newHttpClient();
        BudgetSpec spec = new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD, 1_000_000L, null, null, null, null,
                new double[] {0.75, 0.9, 0.95}, EnforcementMode.ENFORCE);
        log = new SessionLogWriter(dir, "test", ProcessHandle.current().pid(), Clock.systemUTC(), line -> {
            throw new AssertionError(line);
        });
        engine = new BudgetEngine(List.of(spec), Clock.systemUTC(), MdcSource.NONE, log.sessionListener());
        Governor.Settings settings = new Governor.Settings(false, false, null, List.of(
                new HttpEndpoint(URI.create(ollama.baseUrl()), "ollama"),
                new HttpEndpoint(URI.create(gemini.baseUrl()), "gcp.gemini")), name -> true);
        governor = new Governor(engine, log, Telemetry.NONE, Clock.systemUTC(), settings);
    }

    @AfterEach
    void stop() {
        ollama.close();
        gemini.close();
        engine.close();
        log.close();
    }

    /** What the advice on {@code HttpClientFacade.sendAsync} does around the client's own sendAsync. */
    @SuppressWarnings("unchecked")
    <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        CallSite site = null;
        for (Hook hook : JdkHttpClientPlugin.DECLARATION.hooks()) {
            if (hook.methods().contains("sendAsync") && hook.parameterCount() == 2) {
                site = hook.sites().create("sendAsync", governor);
            }
        }
        GovernedCall governed = (GovernedCall) site.enter(client, request);
        HttpRequest sent = (HttpRequest) governed.request(request);
        HttpResponse.BodyHandler<T> observed = (HttpResponse.BodyHandler<T>) governed.argument(1, handler);
        return (CompletableFuture<HttpResponse<T>>) governed.exit(client.sendAsync(sent, observed), null);
    }

    static HttpRequest post(String url, String body) {
        return HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /** Sends, reads the body as an InputStream on the client's thread (as LangChain4j does) and returns it. */
    String streamed(HttpRequest request) {
        return sendAsync(request, HttpResponse.BodyHandlers.ofInputStream()).thenApply(response -> {
            try (InputStream in = response.body()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }).join();
    }

    void assertChargedAsServed(List<RecordedRequest> served, String provider) throws Exception {
        List<JsonNode> calls = SessionLogEvents.of(dir, "llm_call");
        assertEquals(served.size(), calls.size());
        for (int i = 0; i < calls.size(); i++) {
            JsonNode call = calls.get(i);
            assertEquals(provider, call.get("provider").asText());
            assertEquals("provider", call.get("usage_source").asText(), call::toString);
            assertTrue(call.get("streaming").asBoolean());
            assertEquals(served.get(i).usage().inputTokens(), call.get("input_tokens").asLong());
            assertEquals(served.get(i).usage().outputTokens(), call.get("output_tokens").asLong());
        }
    }

    @Test
    void anOllamaChatStreamGoesAsBuiltAndIsReadWhole() throws Exception {
        String body = "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"The printer jams.\"}],"
                + "\"stream\":true}";
        int rounds = 5;
        for (int i = 0; i < rounds; i++) {
            String read = streamed(post(ollama.baseUrl() + "/api/chat", body));
            String[] lines = read.split("\n");
            assertEquals(5, lines.length, read);
            assertTrue(lines[4].contains("\"done\":true") && lines[4].contains("\"eval_count\""), lines[4]);
            assertEquals(body, ollama.lastRequest().body(), "no stream_options added to Ollama's native API");
        }
        assertEquals(rounds, ollama.requestCount());
        assertChargedAsServed(ollama.requests(), "ollama");
    }

    @Test
    void aGeminiEventStreamGoesAsBuiltAndIsReadWhole() throws Exception {
        String body = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"The badge reader beeps.\"}]}]}";
        HttpRequest request = HttpRequest.newBuilder(URI.create(gemini.baseUrl()
                        + "/models/gemini-2.5-flash:streamGenerateContent?alt=sse"))
                .header("Content-Type", "application/json").header("x-goog-api-key", "AIza-secret-do-not-log")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        String read = streamed(request);
        assertEquals(4, read.split("\r\n\r\n").length, read);
        assertEquals(body, gemini.lastRequest().body());
        assertFalse(read.contains("stream_options"));
        assertChargedAsServed(gemini.requests(), "gcp.gemini");
    }
}
