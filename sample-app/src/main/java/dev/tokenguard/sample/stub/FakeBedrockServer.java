package dev.tokenguard.sample.stub;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * An offline stand-in for Amazon Bedrock Runtime on a loopback port, answering with the service's real JSON and
 * event-stream shapes, so that the real AWS SDK for Java 2.x ({@code BedrockRuntimeClient},
 * {@code BedrockRuntimeAsyncClient}) can talk to it: give the client {@code endpointOverride(URI.create(baseUrl()))}
 * and any static credentials (the SigV4 signature is not checked).
 *
 * <p>Endpoints, each {@code POST /model/{modelId}/...} with the model id URL-encoded as the SDK sends it:
 * <ul>
 *   <li>{@code converse}: a Converse request ({@code messages}, {@code system}, {@code inferenceConfig.maxTokens})
 *       answered with {@code output.message}, {@code stopReason}, {@code usage} ({@code inputTokens},
 *       {@code outputTokens}, {@code totalTokens}, {@code cacheReadInputTokens}, {@code cacheWriteInputTokens})
 *       and {@code metrics};</li>
 *   <li>{@code converse-stream}: the same as an event stream ({@link AwsEventStream}): {@code messageStart},
 *       {@code contentBlockDelta}s, {@code contentBlockStop}, {@code messageStop}, and {@code metadata} carrying
 *       the usage;</li>
 *   <li>{@code invoke}: the body in the model's own JSON. An Anthropic Messages body (Claude on Bedrock) is
 *       answered with an Anthropic message; a Titan embeddings body ({@code inputText}) with
 *       {@code embedding} and {@code inputTextTokenCount}. The token counts go in the
 *       {@code X-Amzn-Bedrock-Input-Token-Count} / {@code X-Amzn-Bedrock-Output-Token-Count} headers;</li>
 *   <li>{@code invoke-with-response-stream}: an Anthropic Messages stream, each event a {@code chunk} whose
 *       {@code bytes} is the base64 of the event's JSON; the last one ({@code message_stop}) carries
 *       {@code amazon-bedrock-invocationMetrics} ({@code inputTokenCount}, {@code outputTokenCount}).</li>
 * </ul>
 * Anything else is a 404 ({@code UnknownOperationException}); a body that is not a JSON object is a 400
 * ({@code ValidationException}).
 *
 * <p>Token counts are deterministic per request, {@code n} being its sequence number across all four endpoints:
 * uncached input = prompt characters / 4 + 1 + (n * 7 % 11) (system prompt and message text); cache reads and
 * writes as set by {@link #setCacheTokens} (Converse only; Bedrock reports them apart from {@code inputTokens});
 * output = 20 + (n * 37 % 50), capped by {@code maxTokens} / {@code max_tokens}; embeddings have no output. The
 * ledger's input is the uncached input plus the cache figures, as the GenAI conventions count input tokens.
 *
 * <p>Switches for tests: {@link #setFailNext} (HTTP errors with Bedrock's error body and
 * {@code x-amzn-ErrorType}), {@link #setUsageMode} (usage reported, left out, null or renamed: for
 * {@code invoke}, the token-count headers and the body's usage go together) and {@link #setCacheTokens}.
 * {@link #reset()} restores every default.
 *
 * <p>Request headers (the SigV4 {@code authorization} header among them) are recorded in memory for tests and
 * never printed. Thread-safe; all threads are daemon threads.
 */
public final class FakeBedrockServer extends FakeLlmServer {
    /** The Claude model the scenarios call by default. */
    public static final String CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0";
    /** The Titan embeddings model. */
    public static final String TITAN_EMBED = "amazon.titan-embed-text-v2:0";
    public static final String INPUT_TOKENS_HEADER = "X-Amzn-Bedrock-Input-Token-Count";
    public static final String OUTPUT_TOKENS_HEADER = "X-Amzn-Bedrock-Output-Token-Count";
    private static final ObjectMapper JSON = OpenAiPayloads.JSON;
    private static final int EMBEDDING_DIMENSIONS = 8;

    private final Object settingsLock = new Object();
    private long cacheReadTokens;
    private long cacheWriteTokens;

    private FakeBedrockServer(LoopbackEndpoint endpoint) {
        super(endpoint, new StubLedger("FakeBedrockServer", "/model/{modelId}/..."));
    }

    /** Binds 127.0.0.1 on a free port and starts serving. */
    public static FakeBedrockServer start() {
        FakeBedrockServer fake = new FakeBedrockServer(LoopbackEndpoint.bind("fake-bedrock"));
        fake.endpoint.serve(fake::handle);
        return fake;
    }

    /** The endpoint a Bedrock Runtime client is pointed at, e.g. {@code http://127.0.0.1:54321}. */
    @Override
    public String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    /** The following Converse answers report these {@code cacheReadInputTokens} / {@code cacheWriteInputTokens}. */
    public void setCacheTokens(long read, long write) {
        if (read < 0 || write < 0) {
            throw new IllegalArgumentException("setCacheTokens needs token counts >= 0, got read=" + read
                    + ", write=" + write);
        }
        synchronized (settingsLock) {
            cacheReadTokens = read;
            cacheWriteTokens = write;
        }
    }

    @Override
    protected void resetOwnSettings() {
        synchronized (settingsLock) {
            cacheReadTokens = 0;
            cacheWriteTokens = 0;
        }
    }

    // ---- request handling ----

    private record Settings(UsageMode usageMode, long cacheRead, long cacheWrite) {
    }

    /** One request to a model endpoint: its number, model id and action, what it said and how to answer. */
    private record Call(HttpExchange exchange, int n, String modelId, String action, Map<String, List<String>> headers,
                        String body, ObjectNode request, Settings settings) {
        boolean streaming() {
            return action.endsWith("-stream");
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String[] parts = exchange.getRequestURI().getRawPath().split("/");
            byte[] raw = exchange.getRequestBody().readAllBytes();
            if (!"POST".equals(exchange.getRequestMethod()) || parts.length != 4 || !parts[1].equals("model")
                    || !List.of("converse", "converse-stream", "invoke", "invoke-with-response-stream")
                    .contains(parts[3])) {
                sendError(exchange, 404, "UnknownOperationException", "Unknown operation", 0);
                return;
            }
            String modelId = URLDecoder.decode(parts[2], StandardCharsets.UTF_8);
            String body = new String(raw, StandardCharsets.UTF_8);
            Settings settings;
            synchronized (settingsLock) {
                settings = new Settings(usageMode(), cacheReadTokens, cacheWriteTokens);
            }
            Call call = new Call(exchange, ledger.nextSequence(), modelId, parts[3],
                    LoopbackEndpoint.lowerCaseHeaders(exchange), body, parseObject(body), settings);
            if (call.request() == null) {
                fail(call, 400, "ValidationException", "Malformed input request: expected a JSON object");
                return;
            }
            int injected = ledger.takeInjectedFailure();
            if (injected != 0) {
                fail(call, injected, errorType(injected), "Injected by the fake server (status " + injected + ")");
                return;
            }
            switch (call.action()) {
                case "converse", "converse-stream" -> converse(call);
                default -> invoke(call);
            }
        } catch (IOException e) {
            // the client went away; nothing to answer
        } catch (RuntimeException e) {
            if (exchange.getResponseCode() == -1) {
                try {
                    sendError(exchange, 500, "InternalServerException",
                            "The fake Bedrock server could not handle this request: " + e, 0);
                } catch (IOException ignored) {
                    // the client went away
                }
            }
        }
    }

    private void converse(Call call) throws IOException {
        ObjectNode request = call.request();
        if (!request.path("messages").isArray()) {
            fail(call, 400, "ValidationException", "messages: Field required");
            return;
        }
        JsonNode max = request.path("inferenceConfig").path("maxTokens");
        OptionalLong cap = max.canConvertToLong() ? OptionalLong.of(max.asLong()) : OptionalLong.empty();
        long uncached = UsageCalculator.inputTokens(call.n(), UsageCalculator.promptChars(request.get("system"))
                + UsageCalculator.promptChars(request.get("messages")));
        long output = UsageCalculator.outputTokens(call.n(), cap);
        Settings s = call.settings();
        StubUsage usage = new StubUsage(uncached + s.cacheRead() + s.cacheWrite(), output, s.cacheRead(), 0,
                s.cacheWrite());
        String stopReason = UsageCalculator.capped(call.n(), cap) ? "max_tokens" : "end_turn";
        String text = UsageCalculator.answerText(UsageCalculator.lastUserText(request.get("messages")), output);
        boolean reported = s.usageMode() == UsageMode.NORMAL;
        ledger.recordAnswer(call.n(), call.exchange(), call.headers(), call.body(), call.streaming(), reported, usage,
                null);
        if (!call.streaming()) {
            ObjectNode answer = JSON.createObjectNode();
            ObjectNode message = answer.putObject("output").putObject("message");
            message.put("role", "assistant");
            message.putArray("content").addObject().put("text", text);
            answer.put("stopReason", stopReason);
            putUsage(answer, converseUsage(usage, s.usageMode()), s.usageMode());
            answer.putObject("metrics").put("latencyMs", 100 + call.n());
            send(call.exchange(), 200, JSON.writeValueAsBytes(answer), call.n());
            return;
        }
        try (OutputStream out = startEventStream(call)) {
            ObjectNode start = JSON.createObjectNode();
            start.put("p", "abcdefghijkl");
            start.put("role", "assistant");
            writeEvent(out, "messageStart", start);
            for (String piece : UsageCalculator.split(text, 4)) {
                ObjectNode delta = JSON.createObjectNode();
                delta.put("contentBlockIndex", 0);
                delta.putObject("delta").put("text", piece);
                delta.put("p", "abcd");
                writeEvent(out, "contentBlockDelta", delta);
            }
            writeEvent(out, "contentBlockStop", JSON.createObjectNode().put("contentBlockIndex", 0));
            writeEvent(out, "messageStop", JSON.createObjectNode().put("stopReason", stopReason));
            ObjectNode metadata = JSON.createObjectNode();
            putUsage(metadata, converseUsage(usage, s.usageMode()), s.usageMode());
            metadata.putObject("metrics").put("latencyMs", 100 + call.n());
            writeEvent(out, "metadata", metadata);
        }
    }

    /** Converse's {@code usage}: input without the cache figures, which come apart. */
    private static ObjectNode converseUsage(StubUsage usage, UsageMode mode) {
        ObjectNode node = JSON.createObjectNode();
        long uncached = usage.uncachedInputTokens();
        if (mode == UsageMode.RENAMED) {
            node.put("inTokens", uncached);
            node.put("outTokens", usage.outputTokens());
            return node;
        }
        node.put("inputTokens", uncached);
        node.put("outputTokens", usage.outputTokens());
        node.put("totalTokens", uncached + usage.cachedTokens() + usage.cacheWriteTokens() + usage.outputTokens());
        if (usage.cachedTokens() > 0 || usage.cacheWriteTokens() > 0) {
            node.put("cacheReadInputTokens", usage.cachedTokens());
            node.put("cacheWriteInputTokens", usage.cacheWriteTokens());
        }
        return node;
    }

    private void invoke(Call call) throws IOException {
        ObjectNode request = call.request();
        UsageMode mode = call.settings().usageMode();
        boolean reported = mode == UsageMode.NORMAL;
        if (request.has("inputText")) {
            if (call.streaming()) {
                fail(call, 400, "ValidationException", "The model does not support streaming");
                return;
            }
            long input = UsageCalculator.inputTokens(call.n(), request.path("inputText").asText("").length());
            StubUsage usage = new StubUsage(input, 0, 0, 0, 0);
            ledger.recordAnswer(call.n(), call.exchange(), call.headers(), call.body(), false, reported, usage, null);
            ObjectNode answer = JSON.createObjectNode();
            ArrayNode embedding = answer.putArray("embedding");
            for (int i = 0; i < EMBEDDING_DIMENSIONS; i++) {
                embedding.add(((call.n() * 31 + i * 17) % 100) / 100.0);
            }
            if (mode == UsageMode.NORMAL) {
                answer.put("inputTextTokenCount", input);
            } else if (mode == UsageMode.RENAMED) {
                answer.put("inputTokens", input);
            }
            tokenHeaders(call, usage, mode);
            send(call.exchange(), 200, JSON.writeValueAsBytes(answer), call.n());
            return;
        }
        if (!request.path("messages").isArray() || !request.path("max_tokens").canConvertToLong()) {
            fail(call, 400, "ValidationException", "Malformed input request: messages and max_tokens are required");
            return;
        }
        OptionalLong cap = OptionalLong.of(request.get("max_tokens").asLong());
        long input = UsageCalculator.inputTokens(call.n(), AnthropicPayloads.promptChars(request));
        long output = UsageCalculator.outputTokens(call.n(), cap);
        StubUsage usage = new StubUsage(input, output, 0, 0, 0);
        String stopReason = UsageCalculator.capped(call.n(), cap) ? "max_tokens" : "end_turn";
        String text = UsageCalculator.answerText(UsageCalculator.lastUserText(request.get("messages")), output);
        String model = anthropicModel(call.modelId());
        ledger.recordAnswer(call.n(), call.exchange(), call.headers(), call.body(), call.streaming(), reported, usage,
                null);
        UsageMode bodyMode = mode;
        if (!call.streaming()) {
            ArrayNode content = JSON.createArrayNode();
            content.add(AnthropicPayloads.textBlock(text));
            tokenHeaders(call, usage, mode);
            ObjectNode message = AnthropicPayloads.message(call.n(), model, content, stopReason,
                    AnthropicPayloads.usage(usage, output, bodyMode), bodyMode);
            send(call.exchange(), 200, JSON.writeValueAsBytes(message), call.n());
            return;
        }
        call.exchange().getResponseHeaders().set("X-Amzn-Bedrock-Content-Type", "application/json");
        try (OutputStream out = startEventStream(call)) {
            writeChunk(out, AnthropicPayloads.messageStart(AnthropicPayloads.message(call.n(), model, null, null,
                    AnthropicPayloads.usage(usage, 1, bodyMode), bodyMode)));
            writeChunk(out, AnthropicPayloads.contentBlockStart(0, AnthropicPayloads.textBlock("")));
            for (String piece : UsageCalculator.split(text, 4)) {
                writeChunk(out, AnthropicPayloads.textDelta(0, piece));
            }
            writeChunk(out, AnthropicPayloads.contentBlockStop(0));
            writeChunk(out, AnthropicPayloads.messageDelta(stopReason,
                    AnthropicPayloads.deltaUsage(usage, output, bodyMode), bodyMode));
            ObjectNode stop = AnthropicPayloads.event("message_stop");
            if (mode == UsageMode.NORMAL || mode == UsageMode.RENAMED) {
                ObjectNode metrics = stop.putObject("amazon-bedrock-invocationMetrics");
                metrics.put(mode == UsageMode.NORMAL ? "inputTokenCount" : "inputTokens", input);
                metrics.put(mode == UsageMode.NORMAL ? "outputTokenCount" : "outputTokens", output);
                metrics.put("invocationLatency", 200 + call.n());
                metrics.put("firstByteLatency", 50 + call.n());
            }
            writeChunk(out, stop);
        }
    }

    /** The Anthropic model name of a Bedrock model id, e.g. {@code claude-3-5-sonnet-20240620}. */
    static String anthropicModel(String modelId) {
        String m = modelId;
        int vendor = m.indexOf("anthropic.");
        if (vendor >= 0) {
            m = m.substring(vendor + "anthropic.".length());
        }
        int version = m.lastIndexOf("-v");
        return version > 0 ? m.substring(0, version) : m;
    }

    private static void tokenHeaders(Call call, StubUsage usage, UsageMode mode) {
        if (mode == UsageMode.NORMAL) {
            call.exchange().getResponseHeaders().set(INPUT_TOKENS_HEADER, Long.toString(usage.inputTokens()));
            call.exchange().getResponseHeaders().set(OUTPUT_TOKENS_HEADER, Long.toString(usage.outputTokens()));
        } else if (mode == UsageMode.RENAMED) {
            call.exchange().getResponseHeaders().set("X-Amzn-Bedrock-Input-Tokens", Long.toString(usage.inputTokens()));
            call.exchange().getResponseHeaders().set("X-Amzn-Bedrock-Output-Tokens",
                    Long.toString(usage.outputTokens()));
        }
        call.exchange().getResponseHeaders().set("X-Amzn-Bedrock-Invocation-Latency", Integer.toString(200 + call.n()));
    }

    private static void putUsage(ObjectNode parent, ObjectNode usage, UsageMode mode) {
        switch (mode) {
            case ABSENT -> { }
            case NULL -> parent.putNull("usage");
            case NORMAL, RENAMED -> parent.set("usage", usage);
        }
    }

    // ---- plumbing ----

    /** The {@code x-amzn-ErrorType} Bedrock answers this status with. */
    static String errorType(int status) {
        return switch (status) {
            case 400 -> "ValidationException";
            case 403 -> "AccessDeniedException";
            case 404 -> "ResourceNotFoundException";
            case 408 -> "ModelTimeoutException";
            case 424 -> "ModelErrorException";
            case 429 -> "ThrottlingException";
            case 503 -> "ServiceUnavailableException";
            default -> status >= 500 ? "InternalServerException" : "ValidationException";
        };
    }

    static String requestId(int n) {
        return String.format("00000000-0000-4000-8000-%012d", n);
    }

    private void fail(Call call, int status, String type, String message) throws IOException {
        ledger.recordFailure(call.n(), call.exchange(), call.headers(), call.body(), call.streaming(), status);
        sendError(call.exchange(), status, type, message, call.n());
    }

    private static void sendError(HttpExchange exchange, int status, String type, String message, int n)
            throws IOException {
        exchange.getResponseHeaders().set("x-amzn-ErrorType", type + ":http://internal.amazon.com/coral/com.amazon.bedrock/");
        ObjectNode body = JSON.createObjectNode().put("message", message);
        send(exchange, status, JSON.writeValueAsBytes(body), n);
    }

    private static void send(HttpExchange exchange, int status, byte[] body, int n) throws IOException {
        if (n > 0) {
            exchange.getResponseHeaders().set("x-amzn-RequestId", requestId(n));
        }
        LoopbackEndpoint.sendJson(exchange, status, body);
    }

    private static OutputStream startEventStream(Call call) throws IOException {
        HttpExchange exchange = call.exchange();
        exchange.getResponseHeaders().set("content-type", "application/vnd.amazon.eventstream");
        exchange.getResponseHeaders().set("x-amzn-RequestId", requestId(call.n()));
        exchange.sendResponseHeaders(200, 0);
        return exchange.getResponseBody();
    }

    private static void writeEvent(OutputStream out, String type, ObjectNode payload) throws IOException {
        out.write(AwsEventStream.event(type, JSON.writeValueAsBytes(payload)));
        out.flush();
    }

    /** One {@code chunk} event of an InvokeModelWithResponseStream answer: the event's JSON, base64-encoded. */
    private static void writeChunk(OutputStream out, ObjectNode event) throws IOException {
        ObjectNode chunk = JSON.createObjectNode();
        chunk.put("bytes", Base64.getEncoder().encodeToString(JSON.writeValueAsBytes(event)));
        chunk.put("p", "abcdefgh");
        writeEvent(out, "chunk", chunk);
    }

    private static ObjectNode parseObject(String body) {
        try {
            JsonNode node = JSON.readTree(body);
            return node instanceof ObjectNode object ? object : null;
        } catch (JsonProcessingException e) {
            return null;
        }
    }
}
