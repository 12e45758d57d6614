package dev.tokenguard.instrumentation.jdkhttp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.api.BudgetExhaustedException;
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
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.sessionlog.SessionLogEvents;
import dev.tokenguard.sessionlog.SessionLogWriter;
import dev.tokenguard.instrumentation.UnaskedStreamUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The jdk-http-client plugin in this JVM: the real {@code java.net.http.HttpClient}, the fake server, the real
 * engine and log. The JDK's classes can reach the agent's bridge only from the bootstrap class path, which the
 * built agent jar provides (see {@code JdkHttpClientAgentIT}); here the plugin's call site is driven exactly as
 * its advice drives it: enter, replace the request and the body handler, let the client send, exit.
 */
class JdkHttpClientInstrumentationTest {
    @TempDir
    Path dir;
    @TempDir
    Path files;
    FakeOpenAiServer server;
    HttpClient client;
    BudgetEngine engine;
    SessionLogWriter log;
    Governor governor;

    void install(long maxTokens) {
        BudgetSpec spec = new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD, maxTokens, null, null, null, null,
                new double[] {0.75, 0.9, 0.95}, EnforcementMode.ENFORCE);
        log = new SessionLogWriter(dir, "test", ProcessHandle.current().pid(), Clock.systemUTC(), line -> {
            throw new AssertionError(line);
        });
        engine = new BudgetEngine(List.of(spec), Clock.systemUTC(), MdcSource.NONE, log.sessionListener());
        Governor.Settings settings = new Governor.Settings(false, false, null,
                List.of(new HttpEndpoint(URI.create(server.baseUrl()), "openai")), name -> true);
        governor = new Governor(engine, log, Telemetry.NONE, Clock.systemUTC(), settings);
    }

    @BeforeEach
    void start() {
        server = FakeOpenAiServer.start();
        // the fake server reports a stream's usage only when asked: known so, the agent asks and hides its chunk
        UnaskedStreamUsage.shared().learn(UnaskedStreamUsage.endpoint(URI.create(server.baseUrl())), false, true);
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterEach
    void stop() {
        server.close();
        if (engine != null) {
            engine.close();
            log.close();
        }
    }

    CallSite site(String method, int parameters) {
        for (Hook hook : JdkHttpClientPlugin.DECLARATION.hooks()) {
            if (hook.methods().contains(method) && hook.parameterCount() == parameters) {
                return hook.sites().create(method, governor);
            }
        }
        throw new AssertionError("no hook for " + method + "/" + parameters);
    }

    /** What the advice on {@code HttpClientFacade.send} does around the client's own send. */
    @SuppressWarnings("unchecked")
    <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) throws Exception {
        Object call = site("send", 2).enter(client, request);
        if (call instanceof BudgetExhaustedException refusal) {
            throw refusal;
        }
        GovernedCall governed = (GovernedCall) call;
        if (governed == null) {
            return client.send(request, handler);
        }
        HttpRequest sent = (HttpRequest) governed.request(request);
        HttpResponse.BodyHandler<T> observed = (HttpResponse.BodyHandler<T>) governed.argument(1, handler);
        HttpResponse<T> response;
        try {
            response = client.send(sent, observed);
        } catch (Exception e) {
            governed.exit(null, e);
            throw e;
        }
        return (HttpResponse<T>) governed.exit(response, null);
    }

    /** What the advice on {@code HttpClientFacade.sendAsync} does around the client's own sendAsync. */
    @SuppressWarnings("unchecked")
    <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        Object call = site("sendAsync", 2).enter(client, request);
        if (call instanceof BudgetExhaustedException refusal) {
            throw refusal;
        }
        GovernedCall governed = (GovernedCall) call;
        HttpRequest sent = (HttpRequest) governed.request(request);
        HttpResponse.BodyHandler<T> observed = (HttpResponse.BodyHandler<T>) governed.argument(1, handler);
        return (CompletableFuture<HttpResponse<T>>) governed.exit(client.sendAsync(sent, observed), null);
    }

    HttpRequest chat(String text, boolean stream) {
        return post(server.baseUrl() + "/chat/completions", "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"" + text + "\"}]" + (stream ? ",\"stream\":true" : "") + "}");
    }

    static HttpRequest post(String url, String body) {
        return HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .header("Authorization", "Bearer sk-secret-do-not-log")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    List<JsonNode> calls() throws Exception {
        return SessionLogEvents.of(dir, "llm_call");
    }

    void assertChargedWhatTheServerServed(boolean streaming) throws Exception {
        List<JsonNode> calls = calls();
        assertEquals(server.requestCount(), calls.size());
        assertEquals(server.totalInputTokens(), calls.stream().mapToLong(c -> c.get("input_tokens").asLong()).sum());
        assertEquals(server.totalOutputTokens(), calls.stream().mapToLong(c -> c.get("output_tokens").asLong()).sum());
        for (JsonNode call : calls) {
            assertEquals("openai", call.get("provider").asText());
            assertEquals("gpt-4o", call.get("request_model").asText());
            assertEquals("provider", call.get("usage_source").asText());
            assertEquals(streaming, call.get("streaming").asBoolean());
            assertEquals("ok", call.get("status").asText());
        }
    }

    @Test
    void aChatIsChargedWhatTheServerReportedAndTheAppReadsTheBodyUntouched() throws Exception {
        install(1_000_000);
        HttpResponse<String> response = send(chat("hello", false), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        assertTrue(response.body().contains("\"usage\""), response.body());
        assertEquals(1, server.requestCount());
        assertEquals("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}",
                server.lastRequest().body(), "the request body is sent as the app built it");
        assertChargedWhatTheServerServed(false);
    }

    @Test
    void aStreamAsksForUsageAndTheAppNeverSeesIt() throws Exception {
        install(1_000_000);
        HttpResponse<Stream<String>> response = send(chat("stream please", true), HttpResponse.BodyHandlers.ofLines());
        List<String> lines;
        try (Stream<String> body = response.body()) {
            lines = body.collect(Collectors.toList());
        }
        assertTrue(server.lastRequest().body().contains("\"stream_options\":{\"include_usage\":true}"),
                server.lastRequest().body());
        assertEquals("data: [DONE]", lines.get(lines.size() - 2), String.join("\n", lines));
        assertFalse(String.join("\n", lines).contains("usage"), String.join("\n", lines));
        assertChargedWhatTheServerServed(true);
    }

    @Test
    void anAsyncStreamReadAsAnInputStreamIsChargedOnceAtItsEnd() throws Exception {
        install(1_000_000);
        HttpResponse<InputStream> response = sendAsync(chat("async", true), HttpResponse.BodyHandlers.ofInputStream())
                .join();
        String body;
        try (InputStream in = response.body()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(body.endsWith("data: [DONE]\n\n"), body);
        assertFalse(body.contains("usage"), body);
        assertChargedWhatTheServerServed(true);
    }

    @Test
    void aStreamClosedEarlyIsChargedOnce() throws Exception {
        install(1_000_000);
        HttpResponse<InputStream> response = send(chat("close early", true), HttpResponse.BodyHandlers.ofInputStream());
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            assertTrue(reader.readLine().startsWith("data: {"));
        }
        assertEquals(1, server.requestCount());
        // closing the body cancels it; the client ends the exchange on its own thread, which charges the call
        for (int i = 0; i < 200 && calls().isEmpty(); i++) {
            Thread.sleep(50);
        }
        assertEquals(1, calls().size());
    }

    @Test
    void anExhaustedBudgetRefusesBeforeAnyRequestLeaves() throws Exception {
        install(1);
        send(chat("the only call", false), HttpResponse.BodyHandlers.ofString());
        assertEquals(1, server.requestCount());
        BudgetExhaustedException refused = assertThrows(BudgetExhaustedException.class,
                () -> send(chat("refused", false), HttpResponse.BodyHandlers.ofString()));
        assertTrue(refused.getMessage().endsWith("refused openai chat gpt-4o"), refused.getMessage());
        assertThrows(BudgetExhaustedException.class,
                () -> sendAsync(chat("refused too", true), HttpResponse.BodyHandlers.ofString()));
        assertEquals(1, server.requestCount());
        assertEquals(1, calls().size());
        assertEquals(2, SessionLogEvents.of(dir, "budget_exceeded").size());
    }

    @Test
    void anErrorStatusIsLoggedAsAFailedCall() throws Exception {
        install(1_000_000);
        server.setFailNext(500);
        HttpResponse<String> response = send(chat("fails", false), HttpResponse.BodyHandlers.ofString());
        assertEquals(500, response.statusCode());
        List<JsonNode> calls = calls();
        assertEquals(1, calls.size());
        assertEquals("error", calls.get(0).get("status").asText());
    }

    @Test
    void aRequestToAnotherPathIsNotGovernedAndItsBodyNotRead() throws Exception {
        install(1_000_000);
        boolean[] subscribed = {false};
        HttpRequest.BodyPublisher publisher = new HttpRequest.BodyPublisher() {
            @Override
            public long contentLength() {
                return 0;
            }

            @Override
            public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
                subscribed[0] = true;
            }
        };
        HttpRequest other = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/health"))
                .POST(publisher).build();
        assertNull(site("send", 2).enter(client, other));
        assertFalse(subscribed[0], "the body of a request that is not governed is never read");
    }

    @Test
    void aBodyFromTheAppsOwnPublisherIsLeftToTheClientAndTheCallChargedFromTheResponse() throws Exception {
        install(1_000_000);
        int[] subscriptions = {0};
        byte[] json = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"later\"}]}"
                .getBytes(StandardCharsets.UTF_8);
        HttpRequest.BodyPublisher later = HttpRequest.BodyPublishers.fromPublisher(subscriber -> {
            subscriptions[0]++;
            subscriber.onSubscribe(new Flow.Subscription() {
                private boolean done;

                @Override
                public synchronized void request(long n) {
                    if (!done) {
                        done = true;
                        ForkJoinPool.commonPool().execute(() -> {
                            subscriber.onNext(ByteBuffer.wrap(json));
                            subscriber.onComplete();
                        });
                    }
                }

                @Override
                public void cancel() {
                }
            });
        }, json.length);
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.baseUrl() + "/chat/completions"))
                .header("Content-Type", "application/json").POST(later).build();
        HttpResponse<String> response = send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        List<RecordedRequest> requests = server.requests();
        assertEquals(1, requests.size());
        assertEquals(new String(json, StandardCharsets.UTF_8), requests.get(0).body());
        assertEquals(1, subscriptions[0], "only the client subscribed to the app's publisher");
        List<JsonNode> calls = calls();
        assertEquals(1, calls.size());
        assertEquals(server.totalInputTokens(), calls.get(0).get("input_tokens").asLong());
        assertEquals(server.totalOutputTokens(), calls.get(0).get("output_tokens").asLong());
        assertEquals("provider", calls.get(0).get("usage_source").asText());
    }

    @Test
    void aBodyFromAFileIsReadOnceAndSentAsItIs() throws Exception {
        install(1_000_000);
        String json = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"from a file\"}]}";
        Path file = java.nio.file.Files.writeString(files.resolve("request.json"), json);
        int[] opened = {0};
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.baseUrl() + "/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> {
                    opened[0]++;
                    try {
                        return java.nio.file.Files.newInputStream(file);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                })).build();
        send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(1, opened[0], "the app's stream is opened once, by the agent, and its bytes sent");
        assertEquals(json, server.lastRequest().body());
        assertChargedWhatTheServerServed(false);
    }
}
