package dev.tokenguard.sample.stub;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * An offline stand-in for the OpenAI API on a loopback port, answering with OpenAI's real JSON and
 * SSE shapes, so that the real openai-java SDK (or any HTTP client) can talk to it.
 *
 * <p>Endpoints: {@code POST /v1/chat/completions} (plain and {@code "stream": true}, with the
 * usage-only final chunk only when {@code stream_options.include_usage} is true),
 * {@code POST /v1/responses} (plain and streaming) and {@code POST /v1/embeddings}. Anything else
 * is a 404 with OpenAI's error body; a body that is not a JSON object is a 400. The chat and embeddings
 * endpoints also answer under Azure OpenAI's paths ({@code /openai/deployments/<deployment>/chat/completions}
 * and {@code .../embeddings}, with an {@code api-version} query), where a body without a model is answered for
 * the deployment's name, in the same ledger.
 *
 * <p>Token counts vary per request but are deterministic. With {@code n} the request's sequence
 * number: input = prompt characters / 4 + 1 + (n * 7 % 11); output = 20 + (n * 37 % 50), capped by
 * {@code max_completion_tokens} / {@code max_tokens} / {@code max_output_tokens} (the answer then
 * ends with finish reason {@code length} or status {@code incomplete}); cached = input / 2 on every
 * third request; reasoning = output / 4 for models starting with {@code o} or {@code gpt-5};
 * embeddings have output 0. The answer text has about as many words as visible output tokens.
 * A plain (not streamed) chat request that declares {@code tools} and does not end with a
 * {@code tool} message is answered with one call of the first tool (finish reason
 * {@code tool_calls}), with the usage a text answer would have had; the request that sends the
 * tool's result back is answered with text.
 * Each request is recorded with the usage the server reported, or computed but did not report
 * (a chat stream without {@code stream_options.include_usage}).
 * Chat requests honour {@link #setAnswerDelay} (the usage is computed and recorded after the delay).
 *
 * <p>Request headers are recorded in memory for tests and never printed or logged.
 *
 * <p>Thread-safe; all threads are daemon threads, so a forgotten server never keeps a JVM alive.
 */
public final class FakeOpenAiServer extends FakeLlmServer {

    private static final int EMBEDDING_DIMENSIONS = 8;
    /** Where Azure OpenAI's paths start: {@code /openai/deployments/<deployment>/chat/completions}. */
    private static final String AZURE_DEPLOYMENTS = "/openai/deployments/";


    private FakeOpenAiServer(LoopbackEndpoint endpoint) {
        super(endpoint, new StubLedger("FakeOpenAiServer", "a model endpoint"));
    }

    /** Binds 127.0.0.1 on a free port and starts serving. */
    public static FakeOpenAiServer start() {
        FakeOpenAiServer fake = new FakeOpenAiServer(LoopbackEndpoint.bind("fake-openai"));
        fake.endpoint.serve(fake::handle);
        return fake;
    }

    /**
     * The endpoint an Azure OpenAI client takes, e.g. {@code http://127.0.0.1:54321}: it adds
     * {@code /openai/deployments/<deployment>/chat/completions?api-version=...} itself.
     */
    public String azureEndpoint() {
        return "http://127.0.0.1:" + port();
    }

    /** The base URL an OpenAI client takes, e.g. {@code http://127.0.0.1:54321/v1}. */
    @Override
    public String baseUrl() {
        return "http://127.0.0.1:" + port() + "/v1";
    }

    /** Forgets every recorded request, resets the totals and the sequence, and cancels injected failures. */

    /** {@code root} as {@link #usageMode()} reports usage: its own {@code usage} and its {@code response}'s. */
    private ObjectNode reported(ObjectNode root) {
        UsageMode mode = usageMode();
        if (mode != UsageMode.NORMAL) {
            reportUsage(root, mode);
            if (root.get("response") instanceof ObjectNode response) {
                reportUsage(response, mode);
            }
        }
        return root;
    }

    private static void reportUsage(ObjectNode owner, UsageMode mode) {
        if (!owner.has("usage")) {
            return;
        }
        switch (mode) {
            case ABSENT -> owner.remove("usage");
            case NULL -> owner.putNull("usage");
            case RENAMED -> {
                if (owner.get("usage") instanceof ObjectNode usage) {
                    ObjectNode renamed = owner.putObject("usage");
                    usage.fields().forEachRemaining(e -> renamed.set(switch (e.getKey()) {
                        case "prompt_tokens", "input_tokens" -> "in_tokens";
                        case "completion_tokens", "output_tokens" -> "out_tokens";
                        default -> e.getKey();
                    }, e.getValue()));
                }
            }
            default -> { }
        }
    }

    // ---- request handling ----

    private enum Endpoint { CHAT, RESPONSES, EMBEDDINGS }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            String deployment = azureDeployment(exchange);
            String api = deployment == null ? path : "/v1" + path.substring(
                    AZURE_DEPLOYMENTS.length() + deployment.length());
            Endpoint endpoint = switch (api) {
                case "/v1/chat/completions" -> Endpoint.CHAT;
                case "/v1/responses" -> deployment == null ? Endpoint.RESPONSES : null;
                case "/v1/embeddings" -> Endpoint.EMBEDDINGS;
                default -> null;
            };
            byte[] raw = exchange.getRequestBody().readAllBytes();
            if (endpoint == null || !"POST".equals(method)) {
                sendJson(exchange, 404, OpenAiPayloads.error(
                        "Invalid URL (" + method + " " + path + ")", "invalid_request_error", null, null), 0);
                return;
            }
            int n = ledger.nextSequence();
            String body = new String(raw, StandardCharsets.UTF_8);
            Map<String, List<String>> headers = lowerCaseHeaders(exchange);
            ObjectNode request = parseObject(body);
            if (request == null) {
                fail(exchange, n, headers, body, false, 400, OpenAiPayloads.error(
                        "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                                + "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what "
                                + "was sent was not valid JSON.)", "invalid_request_error", null, null));
                return;
            }
            boolean streaming = request.path("stream").asBoolean(false) && endpoint != Endpoint.EMBEDDINGS;
            String model = request.path("model").asText(deployment == null ? "" : deployment);
            if (model.isEmpty()) {
                fail(exchange, n, headers, body, streaming, 400, OpenAiPayloads.error(
                        "you must provide a model parameter", "invalid_request_error", null, null));
                return;
            }
            String missing = switch (endpoint) {
                case CHAT -> request.path("messages").isArray() ? null : "messages";
                case EMBEDDINGS -> request.has("input") ? null : "input";
                case RESPONSES -> null;
            };
            if (missing != null) {
                fail(exchange, n, headers, body, streaming, 400, OpenAiPayloads.error(
                        "Missing required parameter: '" + missing + "'.", "invalid_request_error", missing,
                        "missing_required_parameter"));
                return;
            }
            int injected = ledger.takeInjectedFailure();
            if (injected != 0) {
                fail(exchange, n, headers, body, streaming, injected,
                        OpenAiPayloads.errorForStatus(injected, model));
                return;
            }
            switch (endpoint) {
                case CHAT -> chat(exchange, n, request, model, streaming, headers, body);
                case RESPONSES -> responses(exchange, n, request, model, streaming, headers, body);
                case EMBEDDINGS -> embeddings(exchange, n, request, model, headers, body);
            }
        } catch (IOException e) {
            // the client went away (e.g. closed a stream early); nothing to answer
        } catch (RuntimeException e) {
            // a request this stub cannot handle: answer like OpenAI's 500 rather than dropping the connection
            if (exchange.getResponseCode() == -1) {
                try {
                    sendJson(exchange, 500, OpenAiPayloads.error("The fake OpenAI server could not handle this "
                            + "request: " + e, "server_error", null, null), 0);
                } catch (IOException ignored) {
                    // the client went away
                }
            }
        }
    }

    /**
     * The deployment of an Azure OpenAI request ({@code /openai/deployments/<deployment>/...?api-version=...}),
     * which names the model where the body names none; null for any other path, or without {@code api-version}
     * (Azure OpenAI answers such a request 404).
     */
    private static String azureDeployment(HttpExchange exchange) {
        String path = exchange.getRequestURI().getPath();
        String query = exchange.getRequestURI().getQuery();
        if (!path.startsWith(AZURE_DEPLOYMENTS) || query == null || !query.contains("api-version=")) {
            return null;
        }
        int end = path.indexOf('/', AZURE_DEPLOYMENTS.length());
        return end > AZURE_DEPLOYMENTS.length() ? path.substring(AZURE_DEPLOYMENTS.length(), end) : null;
    }

    private void chat(HttpExchange exchange, int n, ObjectNode request, String model, boolean streaming,
                      Map<String, List<String>> headers, String body) throws IOException {
        delayAnswer();
        OptionalLong max = maxTokens(request, "max_completion_tokens", "max_tokens");
        StubUsage usage = UsageCalculator.forGeneration(
                n, UsageCalculator.promptChars(request.get("messages")), model, max);
        String text = UsageCalculator.answerText(UsageCalculator.lastUserText(request.get("messages")),
                usage.outputTokens() - usage.reasoningTokens());
        String finishReason = UsageCalculator.capped(n, max) ? "length" : "stop";
        if (!streaming) {
            ledger.recordAnswer(n, exchange, headers, body, false, usageMode() == UsageMode.NORMAL, usage, null);
            JsonNode function = functionToCall(request);
            sendJson(exchange, 200, reported(function != null ? OpenAiPayloads.chatToolCall(n, model, function, usage)
                    : OpenAiPayloads.chatCompletion(n, model, text, finishReason, usage)), n);
            return;
        }
        boolean includeUsage = request.path("stream_options").path("include_usage").asBoolean(false);
        ledger.recordAnswer(n, exchange, headers, body, true, includeUsage && usageMode() == UsageMode.NORMAL, usage, null);
        List<ObjectNode> chunks = OpenAiPayloads.chatChunks(
                n, model, UsageCalculator.split(text, 5), finishReason, includeUsage, usage);
        try (OutputStream out = startStream(exchange, n)) {
            for (ObjectNode chunk : chunks) {
                writeEvent(out, null, OpenAiPayloads.JSON.writeValueAsString(reported(chunk)));
            }
            writeEvent(out, null, "[DONE]");
        }
    }

    /**
     * The function a plain chat answer calls: the first of the request's {@code tools} while the last
     * message is not a {@code tool} result (and {@code tool_choice} is not {@code none}); else null.
     */
    private static JsonNode functionToCall(ObjectNode request) {
        JsonNode tools = request.path("tools");
        JsonNode messages = request.path("messages");
        if (!tools.isArray() || tools.isEmpty() || "none".equals(request.path("tool_choice").asText())
                || messages.isEmpty() || "tool".equals(messages.get(messages.size() - 1).path("role").asText())) {
            return null;
        }
        return tools.get(0).path("function");
    }

    private void responses(HttpExchange exchange, int n, ObjectNode request, String model, boolean streaming,
                           Map<String, List<String>> headers, String body) throws IOException {
        OptionalLong max = maxTokens(request, "max_output_tokens");
        long chars = UsageCalculator.promptChars(request.get("instructions"))
                + UsageCalculator.promptChars(request.get("input"));
        StubUsage usage = UsageCalculator.forGeneration(n, chars, model, max);
        String text = UsageCalculator.answerText(UsageCalculator.lastUserText(request.get("input")),
                usage.outputTokens() - usage.reasoningTokens());
        String status = UsageCalculator.capped(n, max) ? "incomplete" : "completed";
        ledger.recordAnswer(n, exchange, headers, body, streaming, usageMode() == UsageMode.NORMAL, usage, null);
        if (!streaming) {
            sendJson(exchange, 200, reported(OpenAiPayloads.response(n, request, status, text, usage)), n);
            return;
        }
        List<ObjectNode> events = OpenAiPayloads.responseEvents(
                n, request, UsageCalculator.split(text, 4), text, status, usage);
        try (OutputStream out = startStream(exchange, n)) {
            for (ObjectNode event : events) {
                writeEvent(out, event.path("type").asText(), OpenAiPayloads.JSON.writeValueAsString(reported(event)));
            }
        }
    }

    private void embeddings(HttpExchange exchange, int n, ObjectNode request, String model,
                            Map<String, List<String>> headers, String body) throws IOException {
        JsonNode input = request.get("input");
        int inputs = input.isArray() && input.size() > 0 && !input.get(0).isNumber() ? input.size() : 1;
        StubUsage usage = UsageCalculator.forEmbeddings(n, UsageCalculator.promptChars(input));
        boolean base64 = "base64".equals(request.path("encoding_format").asText());
        int dimensions = Math.min(4096, request.path("dimensions").asInt(EMBEDDING_DIMENSIONS));
        ledger.recordAnswer(n, exchange, headers, body, false, usageMode() == UsageMode.NORMAL, usage, null);
        sendJson(exchange, 200, reported(OpenAiPayloads.embeddings(n, model, inputs, Math.max(1, dimensions), base64, usage)), n);
    }

    // ---- plumbing ----

    private void fail(HttpExchange exchange, int n, Map<String, List<String>> headers, String body,
                      boolean streaming, int status, ObjectNode error) throws IOException {
        ledger.recordFailure(n, exchange, headers, body, streaming, status);
        if (status == 429 || status >= 500) {
            exchange.getResponseHeaders().set("retry-after-ms", "10");
        }
        sendJson(exchange, status, error, n);
    }

    private static OptionalLong maxTokens(ObjectNode request, String... fields) {
        for (String field : fields) {
            JsonNode value = request.get(field);
            if (value != null && value.canConvertToLong()) {
                return OptionalLong.of(value.asLong());
            }
        }
        return OptionalLong.empty();
    }

    private static ObjectNode parseObject(String body) {
        try {
            JsonNode node = OpenAiPayloads.JSON.readTree(body);
            return node instanceof ObjectNode object ? object : null;
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    private static Map<String, List<String>> lowerCaseHeaders(HttpExchange exchange) {
        return LoopbackEndpoint.lowerCaseHeaders(exchange);
    }

    private static void sendJson(HttpExchange exchange, int status, ObjectNode body, int n) throws IOException {
        if (n > 0) {
            exchange.getResponseHeaders().set("x-request-id", "req_stub" + n);
        }
        LoopbackEndpoint.sendJson(exchange, status, OpenAiPayloads.JSON.writeValueAsBytes(body));
    }

    private static OutputStream startStream(HttpExchange exchange, int n) throws IOException {
        exchange.getResponseHeaders().set("x-request-id", "req_stub" + n);
        return LoopbackEndpoint.startEventStream(exchange);
    }

    private static void writeEvent(OutputStream out, String event, String data) throws IOException {
        LoopbackEndpoint.writeEvent(out, event, data);
    }
}
