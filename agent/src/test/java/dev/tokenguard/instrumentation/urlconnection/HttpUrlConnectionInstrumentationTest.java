package dev.tokenguard.instrumentation.urlconnection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.config.HttpEndpoint;
import dev.tokenguard.core.GovernedThread;
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
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The http-url-connection plugin in this JVM: the JDK's real {@code HttpURLConnection}, the fake server, the
 * real engine and log. The JDK's classes can reach the agent's bridge only from the bootstrap class path, which
 * the built agent jar provides (see {@code HttpUrlConnectionAgentIT}); here each hooked method is driven
 * exactly as its advice drives it: enter (a refusal thrown), the method on a thread marked governed, exit.
 */
class HttpUrlConnectionInstrumentationTest {
    static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    Path dir;
    FakeOpenAiServer server;
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
        governor = new Governor(engine, log, Telemetry.NONE, Clock.systemUTC(), new Governor.Settings(false, false,
                null, List.of(new HttpEndpoint(URI.create(server.baseUrl()), "openai")), name -> true));
    }

    @BeforeEach
    void start() {
        server = FakeOpenAiServer.start();
        // the fake server reports a stream's usage only when asked: known so, the agent asks and hides its chunk
        UnaskedStreamUsage.shared().learn(UnaskedStreamUsage.endpoint(URI.create(server.baseUrl())), false, true);
    }

    @AfterEach
    void stop() {
        server.close();
        if (engine != null) {
            engine.close();
            log.close();
        }
    }

    CallSite site(String method) {
        for (Hook hook : HttpUrlConnectionPlugin.DECLARATION.hooks()) {
            if (hook.methods().contains(method)) {
                return hook.sites().create(method, governor);
            }
        }
        throw new AssertionError("no hook for " + method);
    }

    /** What the advice on {@code method} does around the connection's own method. */
    @SuppressWarnings("unchecked")
    <T> T advised(String method, HttpURLConnection connection, Callable<T> body) throws Exception {
        Object call = site(method).enter(connection, null);
        if (call instanceof BudgetExhaustedException refusal) {
            throw refusal;
        }
        if (!(call instanceof GovernedCall governed)) {
            return body.call();
        }
        T result;
        GovernedThread.enter();
        try {
            result = body.call();
        } catch (Exception e) {
            GovernedThread.exit();
            governed.exit(null, e);
            throw e;
        }
        GovernedThread.exit();
        return (T) governed.exit(result, null);
    }

    HttpURLConnection open(String path) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) new URL(server.baseUrl() + path).openConnection();
        connection.setRequestMethod("POST");
        connection.setDoOutput(true);
        connection.setRequestProperty("Content-Type", "application/json");
        connection.setRequestProperty("Authorization", "Bearer sk-secret-do-not-log");
        return connection;
    }

    void write(HttpURLConnection connection, String json) throws Exception {
        try (OutputStream out = advised("getOutputStream", connection, connection::getOutputStream)) {
            out.write(json.getBytes(StandardCharsets.UTF_8));
        }
    }

    String read(HttpURLConnection connection) throws Exception {
        try (InputStream in = advised("getInputStream", connection, connection::getInputStream)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static String chatBody(boolean stream) {
        return "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]"
                + (stream ? ",\"stream\":true" : "") + "}";
    }

    List<JsonNode> calls() throws IOException {
        return SessionLogEvents.of(dir, "llm_call");
    }

    void assertChargedWhatTheServerServed(boolean streaming) throws Exception {
        List<JsonNode> calls = calls();
        assertEquals(server.requestCount(), calls.size());
        assertEquals(server.totalInputTokens(), calls.stream().mapToLong(c -> c.get("input_tokens").asLong()).sum());
        assertEquals(server.totalOutputTokens(), calls.stream().mapToLong(c -> c.get("output_tokens").asLong()).sum());
        for (JsonNode call : calls) {
            assertEquals("provider", call.get("usage_source").asText(), call::toString);
            assertEquals(streaming, call.get("streaming").asBoolean(), call::toString);
            assertEquals("ok", call.get("status").asText(), call::toString);
        }
    }

    @Test
    void aChatIsChargedWhatTheServerReportedAndItsBodyIsSentAsWritten() throws Exception {
        install(1_000_000);
        HttpURLConnection connection = open("/chat/completions");
        write(connection, chatBody(false));
        assertEquals(200, (int) advised("getResponseCode", connection, connection::getResponseCode));
        String body = read(connection);
        assertTrue(MAPPER.readTree(body).has("usage"), body);
        assertEquals(1, server.requestCount());
        assertEquals(chatBody(false), server.lastRequest().body());
        assertChargedWhatTheServerServed(false);
        assertEquals("gpt-4o", calls().get(0).get("request_model").asText());
        assertFalse(SessionLogEvents.all(dir).toString().contains("sk-secret"), "the API key never reaches the log");
    }

    @Test
    void aStreamAsksForUsageOnTheWireAndTheAppNeverSeesIt() throws Exception {
        install(1_000_000);
        HttpURLConnection connection = open("/chat/completions");
        write(connection, chatBody(true));
        StringBuilder lines = new StringBuilder();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(
                advised("getInputStream", connection, connection::getInputStream), StandardCharsets.UTF_8))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                lines.append(line).append('\n');
            }
        }
        RecordedRequest sent = server.lastRequest();
        assertTrue(MAPPER.readTree(sent.body()).path("stream_options").path("include_usage").asBoolean(), sent.body());
        assertTrue(sent.usageReported());
        assertFalse(lines.toString().contains("usage"), lines.toString());
        assertTrue(lines.toString().trim().endsWith("data: [DONE]"), lines.toString());
        assertChargedWhatTheServerServed(true);
    }

    @Test
    void anExhaustedBudgetRefusesBeforeAnythingIsSentAndKeepsRefusingThatConnection() throws Exception {
        install(1);
        HttpURLConnection first = open("/chat/completions");
        write(first, chatBody(false));
        read(first);
        assertEquals(1, server.requestCount());

        HttpURLConnection buffered = open("/chat/completions");
        write(buffered, chatBody(false));
        BudgetExhaustedException refusal = assertThrows(BudgetExhaustedException.class,
                () -> advised("getResponseCode", buffered, buffered::getResponseCode));
        assertTrue(refusal.getMessage().endsWith("refused openai chat gpt-4o"), refusal.getMessage());
        assertSame(refusal, assertThrows(BudgetExhaustedException.class, () -> read(buffered)),
                "the same refusal again, not a second one");

        HttpURLConnection fixed = open("/chat/completions");
        fixed.setFixedLengthStreamingMode(chatBody(false).length());
        site("setFixedLengthStreamingMode").enter(fixed, null);
        assertThrows(BudgetExhaustedException.class, () -> write(fixed, chatBody(false)),
                "in a streaming mode the headers would leave with getOutputStream: refused there");

        assertEquals(1, server.requestCount(), "nothing was sent after the refusal");
        assertEquals(1, calls().size());
        assertEquals(2, SessionLogEvents.of(dir, "budget_exceeded").size(), "one refusal per refused request");
    }

    @Test
    void anErrorStatusEndsTheCallOnceAsFailed() throws Exception {
        install(1_000_000);
        server.setFailNext(500);
        HttpURLConnection connection = open("/chat/completions");
        write(connection, chatBody(false));
        assertEquals(500, (int) advised("getResponseCode", connection, connection::getResponseCode));
        assertThrows(IOException.class, () -> read(connection));
        try (InputStream error = connection.getErrorStream()) {
            assertTrue(new String(error.readAllBytes(), StandardCharsets.UTF_8).contains("\"error\""));
        }
        List<JsonNode> calls = calls();
        assertEquals(1, calls.size());
        assertEquals("error", calls.get(0).get("status").asText());
    }

    @Test
    void aChunkedStreamWhoseUsageCannotBeAskedForIsChargedAnEstimate() throws Exception {
        install(1_000_000);
        HttpURLConnection connection = open("/chat/completions");
        connection.setChunkedStreamingMode(64);
        site("setChunkedStreamingMode").enter(connection, null);
        write(connection, chatBody(true));
        String body = read(connection);
        assertTrue(body.trim().endsWith("data: [DONE]"), body);
        assertEquals(chatBody(true), server.lastRequest().body(), "a body sent as it is written is never changed");
        assertFalse(server.lastRequest().usageReported());
        List<JsonNode> calls = calls();
        assertEquals(1, calls.size());
        assertEquals("estimated", calls.get(0).get("usage_source").asText(), calls.get(0)::toString);
        assertTrue(calls.get(0).get("output_tokens").asLong() > 0, calls.get(0)::toString);
    }

    @Test
    void aConnectionDisconnectedBeforeItsBodyIsReadIsChargedOnce() throws Exception {
        install(1_000_000);
        HttpURLConnection connection = open("/chat/completions");
        write(connection, chatBody(true));
        InputStream in = advised("getInputStream", connection, connection::getInputStream);
        assertTrue(in.read() >= 0);
        advised("disconnect", connection, () -> {
            connection.disconnect();
            return null;
        });
        in.close();
        assertEquals(1, calls().size());
        assertEquals(1, server.requestCount());
    }

    @Test
    void otherRequestsAreLeftAlone() throws Exception {
        install(1_000_000);
        HttpURLConnection connection = open("/files");
        assertNull(site("getOutputStream").enter(connection, null));
        try (OutputStream out = connection.getOutputStream()) {
            out.write("{}".getBytes(StandardCharsets.UTF_8));
        }
        assertNull(site("getResponseCode").enter(connection, null));
        assertEquals(404, connection.getResponseCode());
        assertNull(ConnectionCalls.find(connection));
        assertEquals(0, calls().size());
    }
}
