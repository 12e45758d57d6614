package dev.tokenguard.sample.stub;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * An offline stand-in for Anthropic's Messages API on a loopback port, answering with the API's
 * real JSON and SSE shapes, so that the real anthropic-java SDK (or any HTTP client) can talk to it.
 * Give the SDK {@link #baseUrl()}: it appends {@code v1/messages} itself.
 *
 * <p>Endpoints: {@code POST /v1/messages} (plain and {@code "stream": true}; with {@code ?beta=true},
 * as anthropic-java 2.x calls it from its beta service, it answers the same and records the query)
 * and {@code POST /v1/messages/count_tokens}
 * (answers {@code {"input_tokens": N}}; recorded apart from the model requests, in
 * {@link #countTokensRequests()}, and never in the token totals). Anything else is a 404 with
 * Anthropic's error body; a body that is not a JSON object, or lacks {@code model},
 * {@code max_tokens} or {@code messages}, is a 400.
 *
 * <p>A stream is {@code message_start} (usage with the input and cache figures and
 * {@code output_tokens} 1), {@code content_block_start}, {@code ping}, {@code content_block_delta}s
 * with a second {@code ping} among them, {@code content_block_stop}, two {@code message_delta}s and
 * {@code message_stop}. Each {@code message_delta} carries cumulative usage; the first carries about
 * half the output tokens and the second the final count, so a client that adds them up (rather
 * than keeping the last) gets a wrong total.
 *
 * <p>Token counts vary per request but are deterministic. With {@code n} the request's sequence
 * number: uncached input ({@code input_tokens}) = prompt characters / 4 + 1 + (n * 7 % 11), the
 * prompt being the system prompt, the messages' text, earlier tool inputs and the tool definitions;
 * {@code cache_read_input_tokens} and {@code cache_creation_input_tokens} as set by
 * {@link #setCacheTokens} (default 0); output = 20 + (n * 37 % 50), capped by {@code max_tokens}
 * (the answer then stops with {@code max_tokens}). The answer text has about as many words as output
 * tokens. The ledger counts input as Anthropic's three input figures added up, as the GenAI
 * conventions define input tokens.
 *
 * <p>Tool use: when the request declares {@code tools} (and {@code tool_choice} is not
 * {@code none}) and its last message carries no {@code tool_result}, the answer is one
 * {@code tool_use} block calling the first tool with an input that fits its schema (stop reason
 * {@code tool_use}); once the last message carries a {@code tool_result}, the answer is text.
 *
 * <p>Switches for tests: {@link #setFailNext} (HTTP errors with Anthropic's error body),
 * {@link #failNextStreamMidway} (an SSE {@code error} event after a few deltas),
 * {@link #setUsageMode} (usage reported normally, left out, null, or under other names) and
 * {@link #setCacheTokens}. {@link #reset()} restores every default.
 *
 * <p>Request headers (the API key among them: {@code x-api-key}, or {@code authorization} as
 * anthropic-java 3.x sends it) are recorded in memory for tests and never
 * printed or logged.
 *
 * <p>Thread-safe; all threads are daemon threads, so a forgotten server never keeps a JVM alive.
 */
public final class FakeAnthropicServer extends FakeLlmServer {

    private static final String PING = "{\"type\": \"ping\"}";
    private static final int DELTAS_BEFORE_STREAM_ERROR = 2;

    /** count_tokens requests, numbered apart; its totals and failure switch are never used. */
    private final StubLedger countTokensLedger = new StubLedger("FakeAnthropicServer", "/v1/messages/count_tokens");
    private final Object settingsLock = new Object();
    private String streamErrorType;
    private String streamErrorMessage;
    private long cacheReadTokens;
    private long cacheWriteTokens;

    private FakeAnthropicServer(LoopbackEndpoint endpoint) {
        super(endpoint, new StubLedger("FakeAnthropicServer", "/v1/messages"));
    }

    /** Binds 127.0.0.1 on a free port and starts serving. */
    public static FakeAnthropicServer start() {
        FakeAnthropicServer fake = new FakeAnthropicServer(LoopbackEndpoint.bind("fake-anthropic"));
        fake.endpoint.serve(fake::handle);
        return fake;
    }

    /**
     * The base URL an Anthropic client takes, e.g. {@code http://127.0.0.1:54321} (the SDK adds
     * {@code /v1/messages}).
     */
    @Override
    public String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    /**
     * Every request received on {@code /v1/messages/count_tokens}, in arrival order, numbered apart
     * from the model requests; each usage holds the counted input tokens and nothing else.
     */
    public List<RecordedRequest> countTokensRequests() {
        return countTokensLedger.requests();
    }

    /**
     * The next streamed answer starts normally (HTTP 200, {@code message_start}, a few deltas) and
     * then ends with {@code event: error} carrying
     * {@code {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}}.
     */
    public void failNextStreamMidway() {
        failNextStreamMidway("overloaded_error", "Overloaded");
    }

    /** Like {@link #failNextStreamMidway()}, with this error type and message. */
    public void failNextStreamMidway(String errorType, String message) {
        if (errorType == null || errorType.isBlank() || message == null) {
            throw new IllegalArgumentException("failNextStreamMidway needs an error type such as overloaded_error "
                    + "and a message, got type '" + errorType + "' and message '" + message + "'");
        }
        synchronized (settingsLock) {
            streamErrorType = errorType;
            streamErrorMessage = message;
        }
    }

    /**
     * The following answers report these {@code cache_read_input_tokens} and
     * {@code cache_creation_input_tokens} (on top of the uncached {@code input_tokens}); 0 and 0
     * until changed.
     */
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
        countTokensLedger.reset();
        synchronized (settingsLock) {
            streamErrorType = null;
            streamErrorMessage = null;
            cacheReadTokens = 0;
            cacheWriteTokens = 0;
        }
    }

    // ---- request handling ----

    /** What the settings said for one request, taken at once under the lock. */
    private record Settings(UsageMode usageMode, long cacheRead, long cacheWrite) {
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            byte[] raw = exchange.getRequestBody().readAllBytes();
            boolean messages = "/v1/messages".equals(path);
            boolean countTokens = "/v1/messages/count_tokens".equals(path);
            if (!"POST".equals(method) || !(messages || countTokens)) {
                sendJson(exchange, 404, AnthropicPayloads.error("not_found_error", "Not Found", 0), 0);
                return;
            }
            String body = new String(raw, StandardCharsets.UTF_8);
            Map<String, List<String>> headers = LoopbackEndpoint.lowerCaseHeaders(exchange);
            ObjectNode request = parseObject(body);
            if (countTokens) {
                countTokens(exchange, request, headers, body);
            } else {
                message(exchange, request, headers, body);
            }
        } catch (IOException e) {
            // the client went away (e.g. closed a stream early); nothing to answer
        } catch (RuntimeException e) {
            // a request this stub cannot handle: answer like Anthropic's 500 rather than dropping the connection
            if (exchange.getResponseCode() == -1) {
                try {
                    sendJson(exchange, 500, AnthropicPayloads.error("api_error",
                            "The fake Anthropic server could not handle this request: " + e, 0), 0);
                } catch (IOException ignored) {
                    // the client went away
                }
            }
        }
    }

    private void message(HttpExchange exchange, ObjectNode request, Map<String, List<String>> headers, String body)
            throws IOException {
        int n = ledger.nextSequence();
        boolean streaming = request != null && request.path("stream").asBoolean(false);
        String invalid = invalidRequest(request, true);
        if (invalid != null) {
            fail(exchange, n, headers, body, streaming, 400, AnthropicPayloads.error("invalid_request_error", invalid, n));
            return;
        }
        String model = request.get("model").asText();
        String streamError;
        String streamErrorText;
        int injected = ledger.takeInjectedFailure();
        Settings settings;
        synchronized (settingsLock) {
            streamError = null;
            streamErrorText = null;
            if (injected == 0 && streaming && streamErrorType != null) {
                streamError = streamErrorType;
                streamErrorText = streamErrorMessage;
                streamErrorType = null;
                streamErrorMessage = null;
            }
            settings = new Settings(usageMode(), cacheReadTokens, cacheWriteTokens);
        }
        if (injected != 0) {
            fail(exchange, n, headers, body, streaming, injected, AnthropicPayloads.errorForStatus(injected, model, n));
            return;
        }

        OptionalLong max = OptionalLong.of(request.get("max_tokens").asLong());
        long uncached = UsageCalculator.inputTokens(n, AnthropicPayloads.promptChars(request));
        long output = UsageCalculator.outputTokens(n, max);
        StubUsage usage = new StubUsage(uncached + settings.cacheRead() + settings.cacheWrite(), output,
                settings.cacheRead(), 0, settings.cacheWrite());
        boolean capped = UsageCalculator.capped(n, max);
        JsonNode tool = toolToCall(request);
        ObjectNode toolBlock = tool == null ? null
                : AnthropicPayloads.toolUseBlock(n, tool.path("name").asText(), AnthropicPayloads.toolInput(tool));
        String text = tool != null ? null : UsageCalculator.answerText(
                UsageCalculator.lastUserText(request.get("messages")), output);
        String stopReason = capped ? "max_tokens" : tool != null ? "tool_use" : "end_turn";
        boolean usageReported = settings.usageMode() == UsageMode.NORMAL;

        if (!streaming) {
            ledger.recordAnswer(n, exchange, headers, body, false, usageReported, usage, null);
            ArrayNode content = AnthropicPayloads.JSON.createArrayNode();
            content.add(toolBlock != null ? toolBlock : AnthropicPayloads.textBlock(text));
            sendJson(exchange, 200, AnthropicPayloads.message(n, model, content, stopReason,
                    AnthropicPayloads.usage(usage, output, settings.usageMode()), settings.usageMode()), n);
            return;
        }
        stream(exchange, n, headers, body, model, usage, settings.usageMode(), usageReported, toolBlock, text,
                stopReason, streamError, streamErrorText);
    }

    private void stream(HttpExchange exchange, int n, Map<String, List<String>> headers, String body, String model,
                        StubUsage usage, UsageMode mode, boolean usageReported, ObjectNode toolBlock, String text,
                        String stopReason, String streamError, String streamErrorText) throws IOException {
        long startOutput = 1;
        if (streamError != null) {
            // the ledger holds what the events sent before the error reported
            ledger.recordAnswer(n, exchange, headers, body, true, usageReported, new StubUsage(usage.inputTokens(),
                    startOutput, usage.cachedTokens(), 0, usage.cacheWriteTokens()), streamError);
        } else {
            ledger.recordAnswer(n, exchange, headers, body, true, usageReported, usage, null);
        }
        List<ObjectNode> deltas = new ArrayList<>();
        ObjectNode startBlock;
        if (toolBlock != null) {
            startBlock = toolBlock.deepCopy();
            startBlock.putObject("input");
            for (String piece : splitJson(toolBlock.get("input").toString())) {
                deltas.add(AnthropicPayloads.inputJsonDelta(0, piece));
            }
        } else {
            startBlock = AnthropicPayloads.textBlock("");
            for (String piece : UsageCalculator.split(text, 5)) {
                deltas.add(AnthropicPayloads.textDelta(0, piece));
            }
        }
        exchange.getResponseHeaders().set("request-id", AnthropicPayloads.requestId(n));
        try (OutputStream out = LoopbackEndpoint.startEventStream(exchange)) {
            writeEvent(out, AnthropicPayloads.messageStart(AnthropicPayloads.message(n, model, null, null,
                    AnthropicPayloads.usage(usage, startOutput, mode), mode)));
            writeEvent(out, AnthropicPayloads.contentBlockStart(0, startBlock));
            LoopbackEndpoint.writeEvent(out, "ping", PING);
            for (int i = 0; i < deltas.size(); i++) {
                if (streamError != null && i == DELTAS_BEFORE_STREAM_ERROR) {
                    break;
                }
                writeEvent(out, deltas.get(i));
                if (i == deltas.size() / 2 - 1) {
                    LoopbackEndpoint.writeEvent(out, "ping", PING);
                }
            }
            if (streamError != null) {
                ObjectNode error = AnthropicPayloads.error(streamError, streamErrorText, n);
                error.remove("request_id");
                LoopbackEndpoint.writeEvent(out, "error", AnthropicPayloads.JSON.writeValueAsString(error));
                return;
            }
            writeEvent(out, AnthropicPayloads.contentBlockStop(0));
            long partial = Math.max(startOutput, usage.outputTokens() / 2);
            writeEvent(out, AnthropicPayloads.messageDelta(stopReason,
                    AnthropicPayloads.deltaUsage(usage, partial, mode), mode));
            writeEvent(out, AnthropicPayloads.messageDelta(stopReason,
                    AnthropicPayloads.deltaUsage(usage, usage.outputTokens(), mode), mode));
            writeEvent(out, AnthropicPayloads.event("message_stop"));
        }
    }

    private void countTokens(HttpExchange exchange, ObjectNode request, Map<String, List<String>> headers,
                             String body) throws IOException {
        int n = countTokensLedger.nextSequence();
        String invalid = invalidRequest(request, false);
        if (invalid != null) {
            countTokensLedger.recordFailure(n, exchange, headers, body, false, 400);
            sendJson(exchange, 400, AnthropicPayloads.error("invalid_request_error", invalid, n), n);
            return;
        }
        long input = Math.max(1, AnthropicPayloads.promptChars(request) / 4 + 1);
        countTokensLedger.recordAnswer(n, exchange, headers, body, false, true, new StubUsage(input, 0, 0, 0, 0), null);
        sendJson(exchange, 200, AnthropicPayloads.tokensCount(input), n);
    }

    /** Anthropic's message for a request it would refuse as malformed, or null when it is fine. */
    private static String invalidRequest(ObjectNode request, boolean needsMaxTokens) {
        if (request == null) {
            return "The request body is not valid JSON: expected a JSON object.";
        }
        if (!request.path("model").isTextual() || request.get("model").asText().isEmpty()) {
            return "model: Field required";
        }
        if (needsMaxTokens && !request.path("max_tokens").canConvertToLong()) {
            return "max_tokens: Field required";
        }
        if (needsMaxTokens && request.get("max_tokens").asLong() < 1) {
            return "max_tokens: Input should be greater than or equal to 1";
        }
        if (!request.path("messages").isArray()) {
            return "messages: Field required";
        }
        return null;
    }

    /** The tool the answer calls, or null when it answers with text. */
    private static JsonNode toolToCall(ObjectNode request) {
        JsonNode tools = request.path("tools");
        if (!tools.isArray() || tools.isEmpty() || "none".equals(request.path("tool_choice").path("type").asText())
                || AnthropicPayloads.endsWithToolResult(request)) {
            return null;
        }
        return tools.get(0);
    }

    /** Splits a JSON text into three pieces (fewer when it is shorter), as the API streams a tool input. */
    private static List<String> splitJson(String json) {
        List<String> pieces = new ArrayList<>();
        int parts = Math.min(3, json.length());
        for (int i = 0; i < parts; i++) {
            pieces.add(json.substring(json.length() * i / parts, json.length() * (i + 1) / parts));
        }
        return pieces;
    }

    // ---- plumbing ----

    private void fail(HttpExchange exchange, int n, Map<String, List<String>> headers, String body, boolean streaming,
                      int status, ObjectNode error) throws IOException {
        ledger.recordFailure(n, exchange, headers, body, streaming, status);
        if (status == 429 || status >= 500) {
            exchange.getResponseHeaders().set("retry-after-ms", "10");
        }
        sendJson(exchange, status, error, n);
    }

    private static ObjectNode parseObject(String body) {
        try {
            JsonNode node = AnthropicPayloads.JSON.readTree(body);
            return node instanceof ObjectNode object ? object : null;
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    private static void sendJson(HttpExchange exchange, int status, ObjectNode body, int n) throws IOException {
        if (n > 0) {
            exchange.getResponseHeaders().set("request-id", AnthropicPayloads.requestId(n));
        }
        LoopbackEndpoint.sendJson(exchange, status, AnthropicPayloads.JSON.writeValueAsBytes(body));
    }

    private static void writeEvent(OutputStream out, ObjectNode event) throws IOException {
        LoopbackEndpoint.writeEvent(out, event.path("type").asText(), AnthropicPayloads.JSON.writeValueAsString(event));
    }
}
