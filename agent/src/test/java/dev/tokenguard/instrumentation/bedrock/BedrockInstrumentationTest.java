package dev.tokenguard.instrumentation.bedrock;

import dev.tokenguard.instrumentation.InstalledGovernor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.ChargeResult;
import dev.tokenguard.budget.Refusal;
import dev.tokenguard.budget.Session;
import dev.tokenguard.core.CallRecord;
import dev.tokenguard.core.CallRequest;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.sample.stub.AwsEventStream;
import dev.tokenguard.sample.stub.FakeBedrockServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.sample.stub.UsageMode;
import dev.tokenguard.sessionlog.SessionLogEvents;
import dev.tokenguard.sessionlog.SessionLogWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.eventstream.Message;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeAsyncClient;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeClient;
import software.amazon.awssdk.services.bedrockruntime.model.ContentBlock;
import software.amazon.awssdk.services.bedrockruntime.model.ConversationRole;
import software.amazon.awssdk.services.bedrockruntime.model.ConverseRequest;
import software.amazon.awssdk.services.bedrockruntime.model.ConverseResponse;
import software.amazon.awssdk.services.bedrockruntime.model.ConverseStreamRequest;
import software.amazon.awssdk.services.bedrockruntime.model.ConverseStreamResponseHandler;
import software.amazon.awssdk.services.bedrockruntime.model.InvokeModelRequest;
import software.amazon.awssdk.services.bedrockruntime.model.InvokeModelResponse;
import software.amazon.awssdk.services.bedrockruntime.model.InvokeModelWithResponseStreamRequest;
import software.amazon.awssdk.services.bedrockruntime.model.InvokeModelWithResponseStreamResponseHandler;
import software.amazon.awssdk.services.bedrockruntime.model.SystemContentBlock;
import software.amazon.awssdk.services.bedrockruntime.model.ValidationException;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The aws-bedrock plugin in this JVM: the real AWS SDK, the fake Bedrock server, the real engine and log. */
class BedrockInstrumentationTest {
    static final String ACCESS_KEY = "AKIDTOKENGUARDTEST01";
    static final String SECRET_KEY = "secret-key-do-not-log";
    static final ObjectMapper JSON = new ObjectMapper();
    static FakeBedrockServer server;

    @TempDir
    Path dir;
    static BedrockRuntimeClient client;
    static BedrockRuntimeAsyncClient async;
    BudgetEngine engine;
    SessionLogWriter log;
    /** The calls as telemetry (the span exporter) receives them. */
    final List<CallRecord> records = Collections.synchronizedList(new ArrayList<>());
    final Telemetry recording = new Telemetry() {
        @Override
        public SpanIds callFinished(CallRecord record, Session session, ChargeResult charge, Object parent) {
            records.add(record);
            return NO_SPAN;
        }

        @Override
        public SpanIds callRefused(CallRequest request, Session session, Refusal refusal, Object parent) {
            return NO_SPAN;
        }
    };

    /** The clients are built once: building one is slow, and the agent hooks their classes whenever it installs. */
    @BeforeAll
    static void startServer() {
        server = FakeBedrockServer.start();
        StaticCredentialsProvider credentials = StaticCredentialsProvider.create(
                AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY));
        client = BedrockRuntimeClient.builder().endpointOverride(URI.create(server.baseUrl()))
                .region(Region.US_EAST_1).credentialsProvider(credentials).build();
        // the async client speaks HTTP/2 by default; the loopback server speaks HTTP/1.1 without TLS
        async = BedrockRuntimeAsyncClient.builder().endpointOverride(URI.create(server.baseUrl()))
                .region(Region.US_EAST_1).credentialsProvider(credentials)
                .httpClientBuilder(NettyNioAsyncHttpClient.builder().protocol(Protocol.HTTP1_1)).build();
    }

    @AfterAll
    static void stopServer() {
        client.close();
        async.close();
        server.close();
    }

    @BeforeEach
    void start() {
        server.reset();
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
        InstalledGovernor governed = InstalledGovernor.threadBudget(dir, maxTokens, recording, settings);
        log = governed.log();
        engine = governed.engine();
    }

    static ConverseRequest converse(String text) {
        return ConverseRequest.builder().modelId(FakeBedrockServer.CLAUDE)
                .system(SystemContentBlock.fromText("You summarise tickets."))
                .messages(software.amazon.awssdk.services.bedrockruntime.model.Message.builder()
                        .role(ConversationRole.USER).content(ContentBlock.fromText(text)).build())
                .inferenceConfig(c -> c.maxTokens(512)).build();
    }

    static ConverseStreamRequest converseStream(String text) {
        return ConverseStreamRequest.builder().modelId(FakeBedrockServer.CLAUDE)
                .messages(software.amazon.awssdk.services.bedrockruntime.model.Message.builder()
                        .role(ConversationRole.USER).content(ContentBlock.fromText(text)).build())
                .inferenceConfig(c -> c.maxTokens(512)).build();
    }

    static SdkBytes anthropicBody(String text) {
        return SdkBytes.fromUtf8String("{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":400,"
                + "\"system\":\"You summarise tickets.\",\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}");
    }

    List<JsonNode> events(String event) throws Exception {
        for (JsonNode node : SessionLogEvents.all(dir)) {
            assertFalse(node.toString().contains(ACCESS_KEY), "the access key never reaches the log");
            assertFalse(node.toString().contains(SECRET_KEY), "the secret key never reaches the log");
        }
        return SessionLogEvents.of(dir, event);
    }

    /** The one llm_call of the test, checked against the server's one request. */
    JsonNode theOnlyCallMatchesTheServer(String operation) throws Exception {
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size(), calls::toString);
        assertEquals(1, server.requestCount());
        RecordedRequest served = server.requests().get(0);
        JsonNode call = calls.get(0);
        assertEquals(served.usage().inputTokens(), call.get("input_tokens").asLong());
        assertEquals(served.usage().outputTokens(), call.get("output_tokens").asLong());
        assertEquals("aws.bedrock", call.get("provider").asText());
        assertEquals(operation, call.get("operation").asText());
        assertEquals(served.path().split("/")[2].replace("%3A", ":"), call.get("request_model").asText());
        assertEquals("provider", call.get("usage_source").asText());
        assertEquals("ok", call.get("status").asText());
        assertTrue(served.header("authorization").startsWith("AWS4-HMAC-SHA256 Credential=" + ACCESS_KEY),
                "the request was signed as the app configured it");
        return call;
    }

    /** A stream handler that keeps the text of every delta the app receives. */
    static ConverseStreamResponseHandler collecting(List<String> deltas, List<String> events) {
        return ConverseStreamResponseHandler.builder().subscriber(ConverseStreamResponseHandler.Visitor.builder()
                .onContentBlockDelta(d -> deltas.add(d.delta().text()))
                .onMessageStop(m -> events.add("messageStop"))
                .onMetadata(m -> events.add("metadata:" + m.usage().outputTokens()))
                .build()).build();
    }

    @Test
    void aSyncConverseIsChargedItsInputWithCacheReadsAndWrites() throws Exception {
        install(1_000_000);
        server.setCacheTokens(300, 40);
        ConverseResponse response = client.converse(converse("hello"));
        JsonNode call = theOnlyCallMatchesTheServer("chat");
        int uncached = response.usage().inputTokens();
        assertEquals(uncached + 300 + 40, call.get("input_tokens").asLong());
        assertEquals(300, call.get("cache_read_tokens").asLong());
        assertEquals(40, call.get("cache_write_tokens").asLong());
        assertEquals(FakeBedrockServer.CLAUDE, call.get("response_model").asText(), "Bedrock names no model");
        assertEquals("end_turn", response.stopReasonAsString());
        assertFalse(call.get("streaming").asBoolean());
        assertEquals(1, records.size());
        CallRecord record = records.get(0);
        assertEquals("127.0.0.1", record.serverAddress(), "the client's endpoint");
        assertEquals(server.port(), record.serverPort());
        assertEquals("00000000-0000-4000-8000-000000000001", record.responseId(), "the AWS request id");
        assertEquals(List.of("end_turn"), record.finishReasons());
    }

    @Test
    void anAsyncConverseIsChargedBeforeItsFutureCompletes() throws Exception {
        install(1_000_000);
        ConverseResponse response = async.converse(converse("async")).join();
        assertNotNull(response.usage());
        theOnlyCallMatchesTheServer("chat");
    }

    @Test
    void aConverseStreamIsChargedOnceFromItsMetadataEventAndTheAppSeesEveryEvent() throws Exception {
        install(1_000_000);
        List<String> deltas = Collections.synchronizedList(new ArrayList<>());
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        async.converseStream(converseStream("stream me"), collecting(deltas, seen)).join();
        JsonNode call = theOnlyCallMatchesTheServer("chat");
        assertTrue(call.get("streaming").asBoolean());
        long output = server.requests().get(0).usage().outputTokens();
        assertEquals(List.of("messageStop", "metadata:" + output), seen);
        assertEquals(4, deltas.size(), deltas::toString);
        assertTrue(String.join("", deltas).startsWith("stream me"), deltas::toString);
    }

    @Test
    void anInvokeModelIsChargedTheTokenCountHeaders() throws Exception {
        install(1_000_000);
        InvokeModelResponse response = client.invokeModel(InvokeModelRequest.builder()
                .modelId(FakeBedrockServer.CLAUDE).body(anthropicBody("invoke")).build());
        JsonNode body = JSON.readTree(response.body().asUtf8String());
        JsonNode call = theOnlyCallMatchesTheServer("chat");
        assertEquals(body.path("usage").path("input_tokens").asLong(), call.get("input_tokens").asLong());
        assertEquals(body.path("usage").path("output_tokens").asLong(), call.get("output_tokens").asLong());
    }

    @Test
    void anAsyncInvokeOfAnEmbeddingModelIsChargedAsEmbeddings() throws Exception {
        install(1_000_000);
        async.invokeModel(InvokeModelRequest.builder().modelId(FakeBedrockServer.TITAN_EMBED)
                .body(SdkBytes.fromUtf8String("{\"inputText\":\"embed this ticket\"}")).build()).join();
        JsonNode call = theOnlyCallMatchesTheServer("embeddings");
        assertEquals(0, call.get("output_tokens").asLong());
    }

    @Test
    void anInvokeStreamIsChargedItsInvocationMetricsAndTheAppSeesEveryChunk() throws Exception {
        install(1_000_000);
        List<String> types = Collections.synchronizedList(new ArrayList<>());
        InvokeModelWithResponseStreamResponseHandler handler = InvokeModelWithResponseStreamResponseHandler.builder()
                .subscriber(InvokeModelWithResponseStreamResponseHandler.Visitor.builder().onChunk(chunk -> {
                    try {
                        types.add(JSON.readTree(chunk.bytes().asUtf8String()).get("type").asText());
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }).build()).build();
        async.invokeModelWithResponseStream(InvokeModelWithResponseStreamRequest.builder()
                .modelId(FakeBedrockServer.CLAUDE).body(anthropicBody("stream invoke")).build(), handler).join();
        JsonNode call = theOnlyCallMatchesTheServer("chat");
        assertTrue(call.get("streaming").asBoolean());
        assertEquals(List.of("message_start", "content_block_start"), types.subList(0, 2));
        assertEquals("message_stop", types.get(types.size() - 1));
        assertEquals(9, types.size(), types::toString);
    }

    @Test
    void anExhaustedBudgetRefusesEveryOperationBeforeAnyRequestLeaves() throws Exception {
        install(1);
        client.converse(converse("the only call"));
        assertEquals(1, server.requestCount());
        BudgetExhaustedException refusal = assertThrows(BudgetExhaustedException.class,
                () -> client.converse(converse("refused")));
        assertTrue(refusal.getMessage().endsWith("refused aws.bedrock chat " + FakeBedrockServer.CLAUDE),
                refusal.getMessage());
        assertThrows(BudgetExhaustedException.class, () -> client.invokeModel(InvokeModelRequest.builder()
                .modelId(FakeBedrockServer.CLAUDE).body(anthropicBody("refused")).build()));
        // the async client refuses at call time, as the other plugins' async clients do
        assertThrows(BudgetExhaustedException.class, () -> async.converse(converse("refused")));
        List<String> deltas = new ArrayList<>();
        assertThrows(BudgetExhaustedException.class,
                () -> async.converseStream(converseStream("refused"), collecting(deltas, new ArrayList<>())));
        assertEquals(1, server.requestCount(), "nothing was sent after the refusal");
        assertEquals(4, events("budget_exceeded").size());
        assertEquals(1, events("llm_call").size());
    }

    @Test
    void aConverseWithoutUsageIsChargedALocalEstimateMarkedSo() throws Exception {
        install(1_000_000);
        server.setUsageMode(UsageMode.ABSENT);
        client.converse(converse("no usage here"));
        List<String> deltas = Collections.synchronizedList(new ArrayList<>());
        async.converseStream(converseStream("no usage here either"), collecting(deltas, new ArrayList<>())).join();
        client.invokeModel(InvokeModelRequest.builder().modelId(FakeBedrockServer.CLAUDE)
                .body(anthropicBody("no headers")).build());
        List<JsonNode> calls = events("llm_call");
        assertEquals(3, calls.size());
        assertEquals(3, server.requestCount());
        for (JsonNode call : calls) {
            assertEquals("estimated", call.get("usage_source").asText(), call.toString());
            assertTrue(call.get("input_tokens").asLong() > 0, call.toString());
            assertTrue(call.get("output_tokens").asLong() > 0, call.toString());
        }
    }

    @Test
    void aStreamTheAppCancelsEarlyIsChargedOnceAnEstimateMarkedSo() throws Exception {
        install(1_000_000);
        List<Object> seen = Collections.synchronizedList(new ArrayList<>());
        ConverseStreamResponseHandler handler = ConverseStreamResponseHandler.builder()
                .onEventStream(publisher -> publisher.limit(2).subscribe(seen::add)).build();
        try {
            async.converseStream(converseStream("cancel me"), handler).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            // the SDK may end a cancelled stream's future either way; the charge is what counts here
        }
        assertEquals(2, seen.size(), seen::toString);
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size(), calls::toString);
        assertEquals(1, server.requestCount());
        assertEquals("estimated", calls.get(0).get("usage_source").asText());
        assertTrue(calls.get(0).get("input_tokens").asLong() > 0, calls.get(0).toString());
    }

    @Test
    void aFailedRequestIsLoggedAsAnErrorAndChargedNothing() throws Exception {
        install(1_000_000);
        server.setFailNext(400);
        assertThrows(ValidationException.class, () -> client.converse(converse("bad")));
        List<JsonNode> calls = events("llm_call");
        assertEquals(1, calls.size());
        assertEquals(1, server.requestCount());
        assertEquals("error", calls.get(0).get("status").asText());
        assertEquals(ValidationException.class.getName(), calls.get(0).get("error_type").asText());
        assertEquals(0, calls.get(0).get("total_tokens").asLong(0));
    }

    @Test
    void theBudgetNoteGoesIntoTheNextConverseAndAnthropicInvokeRequestOnly() throws Exception {
        install(2_000, new Governor.Settings(true, false, null));
        int calls = 0;
        while (events("budget_warning").isEmpty() && calls < 60) {
            client.converse(converse("tell me about printers " + calls));
            calls++;
            assertFalse(server.lastRequest().body().contains("[TokenGuard]"), "no note before a threshold");
        }
        assertEquals(1, events("budget_warning").size(), "one threshold was crossed");
        ConverseRequest request = converse("and scanners?");
        client.converse(request);
        JsonNode sent = JSON.readTree(server.lastRequest().body());
        assertEquals(2, sent.get("system").size(), sent.toString());
        assertEquals("You summarise tickets.", sent.get("system").get(0).get("text").asText());
        assertTrue(sent.get("system").get(1).get("text").asText().startsWith("[TokenGuard] Budget "), sent.toString());
        assertEquals(1, request.system().size(), "the app's request object is not changed");
        client.converse(converse("once only"));
        assertFalse(server.lastRequest().body().contains("[TokenGuard]"), "each crossing is injected once");
        // the next crossing's note goes into an Anthropic body sent through invokeModel
        int more = 0;
        while (events("budget_warning").size() < 2 && more < 60) {
            client.converse(converse("more printers " + more));
            more++;
        }
        assertEquals(2, events("budget_warning").size());
        client.invokeModel(InvokeModelRequest.builder().modelId(FakeBedrockServer.CLAUDE)
                .body(anthropicBody("invoke after the note")).build());
        JsonNode invoked = JSON.readTree(server.lastRequest().body());
        assertTrue(invoked.get("system").asText().startsWith("You summarise tickets.\n\n[TokenGuard] Budget "),
                invoked.toString());
        List<JsonNode> logged = events("llm_call");
        assertEquals(calls + 2 + more + 1, logged.size());
        assertEquals(2, logged.stream().filter(c -> c.get("notice_injected").asBoolean()).count());
        assertTrue(logged.get(calls).get("notice_injected").asBoolean());
        assertTrue(logged.get(logged.size() - 1).get("notice_injected").asBoolean());
    }

    @Test
    void theSdksOwnEventStreamDecoderReadsTheFakeServersFrames() {
        byte[] frame = AwsEventStream.event("metadata", "{\"usage\":{\"inputTokens\":3}}".getBytes(
                StandardCharsets.UTF_8));
        Message decoded = Message.decode(java.nio.ByteBuffer.wrap(frame));
        assertEquals("metadata", decoded.getHeaders().get(":event-type").getString());
        assertEquals("event", decoded.getHeaders().get(":message-type").getString());
        assertEquals("{\"usage\":{\"inputTokens\":3}}", new String(decoded.getPayload(), StandardCharsets.UTF_8));
    }
}
