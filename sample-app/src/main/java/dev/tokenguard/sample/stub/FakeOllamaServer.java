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
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * An offline stand-in for Ollama's native API on a loopback port, answering with Ollama's real JSON and NDJSON
 * shapes, so that real clients (LangChain4j's Ollama models, ollama4j, plain HTTP) can talk to it. Give the
 * client {@link #baseUrl()}: it adds {@code /api/...} itself.
 *
 * <p>Endpoints:
 * <ul>
 *   <li>{@code POST /api/chat} and {@code POST /api/generate}: a stream of NDJSON lines by default (one object
 *       per line, each with {@code "done": false} and the next piece of the answer), one JSON object with
 *       {@code "stream": false}. The final object has {@code "done": true}, {@code done_reason},
 *       {@code prompt_eval_count} (input tokens), {@code eval_count} (output tokens) and the durations;
 *       {@code /api/generate}'s also the {@code context};</li>
 *   <li>{@code POST /api/embed}: {@code embeddings} for a string or a list of strings ({@code dimensions} each
 *       when the request names them, else {@value #DEFAULT_DIMENSIONS}) with {@code prompt_eval_count};</li>
 *   <li>{@code GET /api/tags}: the models requested so far and two defaults; not recorded.</li>
 * </ul>
 * Anything else is a 404 ({@code 404 page not found}, as Ollama's router answers); a body that is not a JSON
 * object, or has no {@code model}, is a 400 with Ollama's {@code {"error": ...}} body, recorded as a failed
 * request.
 *
 * <p>Token counts vary per request but are deterministic. With {@code n} the request's sequence number:
 * {@code prompt_eval_count} = prompt characters / 4 + 1 + (n * 7 % 11), the prompt being the messages' contents
 * (earlier tool calls' arguments included) and the tool definitions, or the {@code system} and {@code prompt} of
 * a generate request, or the texts to embed; {@code eval_count} = 20 + (n * 37 % 50), capped by
 * {@code options.num_predict} when positive (the answer then ends with {@code done_reason} {@code length}).
 *
 * <p>Tool calls: when a chat request declares {@code tools} and its last message is not a {@code tool} message,
 * the answer is one {@code tool_calls} entry calling the first tool with arguments that fit its schema; once the
 * last message is a tool's result, the answer is text.
 *
 * <p>Switches for tests: {@link #setFailNext} (HTTP errors with Ollama's error body) and {@link #setUsageMode}
 * (counts reported normally, left out, null, or under OpenAI's names). {@link #reset()} restores every default.
 * Request headers (a proxy's key among them) are recorded in memory and never printed. Thread-safe; all threads
 * are daemon threads.
 */
public final class FakeOllamaServer extends FakeLlmServer {

    /** The embedding size when the request names no {@code dimensions}. */
    public static final int DEFAULT_DIMENSIONS = 384;
    private static final int STREAM_PIECES = 4;
    private static final List<String> DEFAULT_MODELS = List.of("llama3.2:latest", "all-minilm:latest");

    private final Set<String> models = new ConcurrentSkipListSet<>(DEFAULT_MODELS);
    private final Object settingsLock = new Object();

    private FakeOllamaServer(LoopbackEndpoint endpoint) {
        super(endpoint, new StubLedger("FakeOllamaServer", "/api/chat, /api/generate or /api/embed"));
    }

    /** Binds 127.0.0.1 on a free port and starts serving. */
    public static FakeOllamaServer start() {
        FakeOllamaServer fake = new FakeOllamaServer(LoopbackEndpoint.bind("fake-ollama"));
        fake.endpoint.serve(fake::handle);
        return fake;
    }

    /** The base URL an Ollama client takes, e.g. {@code http://127.0.0.1:54321} (the client adds {@code /api/...}). */
    @Override
    public String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    @Override
    protected void resetOwnSettings() {
        models.retainAll(DEFAULT_MODELS);
    }

    // ---- request handling ----

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] raw = exchange.getRequestBody().readAllBytes();
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            if ("GET".equals(method) && "/api/tags".equals(path)) {
                sendJson(exchange, 200, OllamaPayloads.tags(List.copyOf(models)));
                return;
            }
            boolean model = List.of("/api/chat", "/api/generate", "/api/embed").contains(path);
            if (!"POST".equals(method) || !model) {
                byte[] notFound = "404 page not found".getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("content-type", "text/plain");
                exchange.sendResponseHeaders(404, notFound.length);
                exchange.getResponseBody().write(notFound);
                return;
            }
            String body = new String(raw, StandardCharsets.UTF_8);
            modelRequest(exchange, path, parseObject(body), LoopbackEndpoint.lowerCaseHeaders(exchange), body);
        } catch (IOException e) {
            // the client went away (e.g. closed a stream early); nothing to answer
        } catch (RuntimeException e) {
            if (exchange.getResponseCode() == -1) {
                try {
                    sendJson(exchange, 500, OllamaPayloads.error("the fake Ollama server could not handle this"
                            + " request: " + e));
                } catch (IOException ignored) {
                    // the client went away
                }
            }
        }
    }

    private void modelRequest(HttpExchange exchange, String path, ObjectNode request, Map<String, List<String>> headers,
                              String body) throws IOException {
        int n = ledger.nextSequence();
        boolean embed = path.equals("/api/embed");
        boolean streaming = !embed && (request == null || request.path("stream").asBoolean(true));
        if (request == null) {
            fail(exchange, n, headers, body, streaming, 400, OllamaPayloads.error("invalid character in request body:"
                    + " expected a JSON object"));
            return;
        }
        if (!request.path("model").isTextual() || request.get("model").asText().isBlank()) {
            fail(exchange, n, headers, body, streaming, 400, OllamaPayloads.error("model is required"));
            return;
        }
        String model = request.get("model").asText();
        models.add(model.contains(":") ? model : model + ":latest");
        int injected = ledger.takeInjectedFailure();
        if (injected != 0) {
            fail(exchange, n, headers, body, streaming, injected, OllamaPayloads.errorForStatus(injected, model));
            return;
        }
        UsageMode mode;
        synchronized (settingsLock) {
            mode = usageMode();
        }
        boolean usageReported = mode == UsageMode.NORMAL;
        if (embed) {
            embed(exchange, n, model, request, headers, body, mode, usageReported);
            return;
        }
        boolean chat = path.equals("/api/chat");
        JsonNode numPredict = request.path("options").path("num_predict");
        OptionalLong max = numPredict.canConvertToLong() && numPredict.asLong() > 0
                ? OptionalLong.of(numPredict.asLong()) : OptionalLong.empty();
        long chars = chat ? OllamaPayloads.chatPromptChars(request)
                : UsageCalculator.promptChars(request.get("system")) + UsageCalculator.promptChars(request.get("prompt"));
        StubUsage usage = new StubUsage(UsageCalculator.inputTokens(n, chars), UsageCalculator.outputTokens(n, max),
                0, 0);
        String doneReason = UsageCalculator.capped(n, max) ? "length" : "stop";
        ledger.recordAnswer(n, exchange, headers, body, streaming, usageReported, usage, null);

        JsonNode tool = chat ? toolToCall(request) : null;
        List<ObjectNode> lines = new ArrayList<>();
        if (tool != null) {
            JsonNode function = tool.path("function");
            ObjectNode message = OllamaPayloads.toolCallMessage(n, function.path("name").asText(),
                    GeminiPayloads.args(function));
            if (streaming) {
                lines.add(OllamaPayloads.chatChunk(n, 0, model, message));
                message = OllamaPayloads.assistantMessage("");
            }
            ObjectNode last = OllamaPayloads.chatChunk(n, lines.size(), model, message);
            OllamaPayloads.finish(last, "stop", usage, mode);
            lines.add(last);
        } else {
            String seed = chat ? OllamaPayloads.lastUserText(request) : request.path("prompt").asText("");
            String text = UsageCalculator.answerText(seed, usage.outputTokens());
            List<String> pieces = streaming ? UsageCalculator.split(text, STREAM_PIECES) : List.of(text);
            for (int i = 0; i < (streaming ? pieces.size() : 0); i++) {
                lines.add(chat ? OllamaPayloads.chatChunk(n, i, model, OllamaPayloads.assistantMessage(pieces.get(i)))
                        : OllamaPayloads.generateChunk(n, i, model, pieces.get(i)));
            }
            String finalText = streaming ? "" : text;
            ObjectNode last = chat
                    ? OllamaPayloads.chatChunk(n, lines.size(), model, OllamaPayloads.assistantMessage(finalText))
                    : OllamaPayloads.generateChunk(n, lines.size(), model, finalText);
            OllamaPayloads.finish(last, doneReason, usage, mode);
            if (!chat) {
                last.set("context", OllamaPayloads.context(usage.totalTokens()));
            }
            lines.add(last);
        }
        if (!streaming) {
            sendJson(exchange, 200, lines.get(0));
            return;
        }
        exchange.getResponseHeaders().set("content-type", "application/x-ndjson");
        exchange.sendResponseHeaders(200, 0);
        try (OutputStream out = exchange.getResponseBody()) {
            for (ObjectNode line : lines) {
                out.write((OllamaPayloads.JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        }
    }

    private void embed(HttpExchange exchange, int n, String model, ObjectNode request, Map<String, List<String>> headers,
                       String body, UsageMode mode, boolean usageReported) throws IOException {
        List<String> inputs = new ArrayList<>();
        JsonNode input = request.path("input");
        if (input.isTextual()) {
            inputs.add(input.asText());
        } else {
            input.forEach(item -> inputs.add(item.asText("")));
        }
        int dimensions = request.path("dimensions").canConvertToInt() && request.get("dimensions").asInt() > 0
                ? request.get("dimensions").asInt() : DEFAULT_DIMENSIONS;
        long chars = inputs.stream().mapToLong(String::length).sum();
        StubUsage usage = UsageCalculator.forEmbeddings(n, chars);
        ledger.recordAnswer(n, exchange, headers, body, false, usageReported, usage, null);
        ObjectNode answer = OllamaPayloads.JSON.createObjectNode();
        answer.put("model", model);
        ArrayNode embeddings = answer.putArray("embeddings");
        for (String text : inputs) {
            embeddings.add(OllamaPayloads.embedding(text, dimensions));
        }
        answer.put("total_duration", 14_143_917L + usage.inputTokens() * 1_000_000L);
        answer.put("load_duration", 1_019_500L);
        OllamaPayloads.putCount(answer, "prompt_eval_count", "prompt_tokens", usage.inputTokens(), mode);
        sendJson(exchange, 200, answer);
    }

    /** The tool the answer calls, or null when it answers with text. */
    private static JsonNode toolToCall(ObjectNode request) {
        JsonNode tools = request.path("tools");
        if (!tools.isArray() || tools.isEmpty() || OllamaPayloads.endsWithToolResult(request)) {
            return null;
        }
        return tools.get(0);
    }

    // ---- plumbing ----

    private void fail(HttpExchange exchange, int n, Map<String, List<String>> headers, String body, boolean streaming,
                      int status, ObjectNode error) throws IOException {
        ledger.recordFailure(n, exchange, headers, body, streaming, status);
        sendJson(exchange, status, error);
    }

    private static ObjectNode parseObject(String body) {
        try {
            JsonNode node = OllamaPayloads.JSON.readTree(body);
            return node instanceof ObjectNode object ? object : null;
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    private static void sendJson(HttpExchange exchange, int status, ObjectNode body) throws IOException {
        exchange.getResponseHeaders().set("content-type", "application/json; charset=utf-8");
        byte[] bytes = OllamaPayloads.JSON.writeValueAsBytes(body);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
