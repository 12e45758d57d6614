package dev.tokenguard.sample.stub;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An offline stand-in for Google's Gemini API on a loopback port, answering with the API's real JSON and SSE
 * shapes, so that real clients (LangChain4j's Gemini models, the Google GenAI SDK, plain HTTP) can talk to it.
 * Give a client that takes the versioned base URL (LangChain4j's {@code baseUrl(...)}) {@link #baseUrl()}, one
 * that adds the version itself {@link #rootUrl()}.
 *
 * <p>Endpoints, under {@code /v1beta} (and {@code /v1}), all {@code POST}; the same under Vertex AI's
 * {@code /v1beta1/[projects/{p}/locations/{l}/]publishers/google/models/...}, which answers in the same shapes:
 * <ul>
 *   <li>{@code models/{model}:generateContent}: one {@code GenerateContentResponse};</li>
 *   <li>{@code models/{model}:streamGenerateContent?alt=sse}: an event stream whose every event is a
 *       {@code GenerateContentResponse} chunk; without {@code alt=sse}, the same chunks as one JSON array, as the
 *       API streams by default. Every chunk carries {@code usageMetadata} with the counts so far (the prompt
 *       count whole, the candidates' count growing); the last one carries the finish reason and the totals, so a
 *       client that adds the chunks up gets a wrong total;</li>
 *   <li>{@code models/{model}:embedContent} and {@code :batchEmbedContents}: embeddings with
 *       {@code usageMetadata.promptTokenCount} (the input of the whole batch);</li>
 *   <li>{@code models/{model}:countTokens}: {@code {"totalTokens": N}}; recorded apart from the model requests,
 *       in {@link #countTokensRequests()}, never in the token totals and never failed on purpose.</li>
 * </ul>
 * Anything else is a 404 with Google's error body; a body that is not a JSON object, or lacks what the method
 * needs ({@code contents}, {@code content}, {@code requests}), is a 400; a request without an API key (header
 * {@code x-goog-api-key} or query parameter {@code key}) is a 403, as the API answers callers without identity.
 * Those are recorded as failed requests.
 *
 * <p>Token counts vary per request but are deterministic. With {@code n} the request's sequence number:
 * {@code promptTokenCount} = prompt characters / 4 + 1 + (n * 7 % 11) plus the cached tokens set by
 * {@link #setCachedContentTokens} (reported as {@code cachedContentTokenCount}, default 0), the prompt being the
 * system instruction, every part's text, earlier function calls and responses and the function declarations (for
 * embeddings: the texts to embed); {@code candidatesTokenCount} = 20 + (n * 37 % 50), capped by
 * {@code generationConfig.maxOutputTokens} (the answer then finishes with {@code MAX_TOKENS});
 * {@code thoughtsTokenCount} = a quarter of the candidates' tokens for thinking models (names starting with
 * {@code gemini-2.5} or {@code gemini-3}) unless {@code thinkingConfig.thinkingBudget} is 0, else left out. The
 * ledger counts input as {@code promptTokenCount} and output as candidates plus thoughts, as the GenAI
 * conventions do; reasoning as the thoughts.
 *
 * <p>Function calling: when the request declares {@code tools[].functionDeclarations} (and
 * {@code toolConfig.functionCallingConfig.mode} is not {@code NONE}) and its last content carries no
 * {@code functionResponse}, the answer is one {@code functionCall} of the first declared function with arguments
 * that fit its schema; once the last content carries a {@code functionResponse}, the answer is text.
 *
 * <p>Switches for tests: {@link #setFailNext} (HTTP errors with Google's error body), {@link #setUsageMode}
 * (usage reported normally, left out, null, or under snake-case names) and {@link #setCachedContentTokens}.
 * {@link #reset()} restores every default.
 *
 * <p>Request headers and query strings (the API key among them) are recorded in memory for tests and never
 * printed or logged. Thread-safe; all threads are daemon threads.
 */
public final class FakeGeminiServer extends FakeLlmServer {

    /** The embedding size when the request names no {@code outputDimensionality}. */
    public static final int DEFAULT_DIMENSIONS = 768;
    private static final int STREAM_CHUNKS = 4;

    /** countTokens requests, numbered apart; its totals and failure switch are never used. */
    private final StubLedger countTokensLedger = new StubLedger("FakeGeminiServer", ":countTokens");
    private final Object settingsLock = new Object();
    private long cachedContentTokens;

    private FakeGeminiServer(LoopbackEndpoint endpoint) {
        super(endpoint, new StubLedger("FakeGeminiServer", "a model method"));
    }

    /** Binds 127.0.0.1 on a free port and starts serving. */
    public static FakeGeminiServer start() {
        FakeGeminiServer fake = new FakeGeminiServer(LoopbackEndpoint.bind("fake-gemini"));
        fake.endpoint.serve(fake::handle);
        return fake;
    }

    /** The versioned base URL, e.g. {@code http://127.0.0.1:54321/v1beta} (clients add {@code /models/...}). */
    @Override
    public String baseUrl() {
        return rootUrl() + "/v1beta";
    }

    /** The server's root, e.g. {@code http://127.0.0.1:54321}, for clients that add the API version themselves. */
    public String rootUrl() {
        return "http://127.0.0.1:" + port();
    }

    /**
     * Every request received on {@code :countTokens}, in arrival order, numbered apart from the model requests;
     * each usage holds the counted tokens as input and nothing else.
     */
    public List<RecordedRequest> countTokensRequests() {
        return countTokensLedger.requests();
    }

    /**
     * The following generation answers report this {@code cachedContentTokenCount}, added to their
     * {@code promptTokenCount} (which includes cached tokens); 0 (left out) until changed.
     */
    public void setCachedContentTokens(long tokens) {
        if (tokens < 0) {
            throw new IllegalArgumentException("setCachedContentTokens needs a token count >= 0, got " + tokens);
        }
        synchronized (settingsLock) {
            cachedContentTokens = tokens;
        }
    }

    @Override
    protected void resetOwnSettings() {
        countTokensLedger.reset();
        synchronized (settingsLock) {
            cachedContentTokens = 0;
        }
    }

    // ---- request handling ----

    /**
     * The model and method a path names: the Gemini API's {@code /v1beta/models/gemini-2.5-flash:generateContent}
     * (or {@code /v1/...}), or Vertex AI's {@code /v1beta1/publishers/google/models/gemini-2.5-flash:generateContent}
     * (or {@code /v1/...}), with or without {@code projects/{project}/locations/{location}/} before
     * {@code publishers} (Vertex AI's API-key "express mode" leaves it out).
     */
    private record ModelMethod(String model, String method) {
        private static final Pattern PATH = Pattern.compile(
                "/(?:(?:v1beta|v1)/models/|(?:v1beta1|v1)/(?:projects/[^/]+/locations/[^/]+/)?publishers/google/models/)"
                        + "([^/:]+):([^/:]+)");

        static ModelMethod of(String path) {
            Matcher m = PATH.matcher(path);
            return m.matches() ? new ModelMethod(m.group(1), m.group(2)) : null;
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] raw = exchange.getRequestBody().readAllBytes();
            ModelMethod target = ModelMethod.of(exchange.getRequestURI().getPath());
            boolean known = target != null && List.of("generateContent", "streamGenerateContent", "embedContent",
                    "batchEmbedContents", "countTokens").contains(target.method());
            if (!"POST".equals(exchange.getRequestMethod()) || !known) {
                LoopbackEndpoint.sendJson(exchange, 404, GeminiPayloads.JSON.writeValueAsBytes(GeminiPayloads.error(
                        404, "The requested method was not found on this server.")));
                return;
            }
            String body = new String(raw, StandardCharsets.UTF_8);
            Map<String, List<String>> headers = LoopbackEndpoint.lowerCaseHeaders(exchange);
            ObjectNode request = parseObject(body);
            if (target.method().equals("countTokens")) {
                countTokens(exchange, target, request, headers, body);
            } else {
                modelRequest(exchange, target, request, headers, body);
            }
        } catch (IOException e) {
            // the client went away (e.g. closed a stream early); nothing to answer
        } catch (RuntimeException e) {
            if (exchange.getResponseCode() == -1) {
                try {
                    LoopbackEndpoint.sendJson(exchange, 500, GeminiPayloads.JSON.writeValueAsBytes(
                            GeminiPayloads.error(500, "The fake Gemini server could not handle this request: " + e)));
                } catch (IOException ignored) {
                    // the client went away
                }
            }
        }
    }

    private void modelRequest(HttpExchange exchange, ModelMethod target, ObjectNode request,
                              Map<String, List<String>> headers, String body) throws IOException {
        int n = ledger.nextSequence();
        boolean streaming = target.method().equals("streamGenerateContent");
        if (!hasApiKey(exchange, headers)) {
            fail(exchange, ledger, n, headers, body, streaming, GeminiPayloads.error(403, "Method doesn't allow"
                    + " unregistered callers (callers without established identity). Please use API Key or other"
                    + " form of API consumer identity to call this API."));
            return;
        }
        String invalid = invalidRequest(target.method(), request);
        if (invalid != null) {
            fail(exchange, ledger, n, headers, body, streaming, GeminiPayloads.error(400, invalid));
            return;
        }
        int injected = ledger.takeInjectedFailure();
        UsageMode mode;
        long cached;
        synchronized (settingsLock) {
            mode = usageMode();
            cached = cachedContentTokens;
        }
        if (injected != 0) {
            fail(exchange, ledger, n, headers, body, streaming, GeminiPayloads.errorForStatus(injected));
            return;
        }
        boolean usageReported = mode == UsageMode.NORMAL;
        switch (target.method()) {
            case "embedContent" -> embed(exchange, n, headers, body, mode, usageReported, List.of(request), false);
            case "batchEmbedContents" -> {
                List<JsonNode> items = new ArrayList<>();
                request.get("requests").forEach(items::add);
                embed(exchange, n, headers, body, mode, usageReported, items, true);
            }
            default -> generate(exchange, n, target, request, headers, body, mode, usageReported, cached, streaming);
        }
    }

    private void generate(HttpExchange exchange, int n, ModelMethod target, ObjectNode request,
                          Map<String, List<String>> headers, String body, UsageMode mode, boolean usageReported,
                          long cached, boolean streaming) throws IOException {
        JsonNode config = request.path("generationConfig");
        OptionalLong max = config.path("maxOutputTokens").canConvertToLong()
                ? OptionalLong.of(config.get("maxOutputTokens").asLong()) : OptionalLong.empty();
        long prompt = UsageCalculator.inputTokens(n, GeminiPayloads.promptChars(request)) + cached;
        long candidates = UsageCalculator.outputTokens(n, max);
        long thoughts = thinks(target.model(), config) ? candidates / 4 : 0;
        StubUsage usage = new StubUsage(prompt, candidates + thoughts, cached, thoughts);
        String finish = UsageCalculator.capped(n, max) ? "MAX_TOKENS" : "STOP";
        JsonNode function = functionToCall(request);
        ledger.recordAnswer(n, exchange, headers, body, streaming, usageReported, usage, null);
        if (function != null) {
            ArrayNode parts = GeminiPayloads.functionCallParts(function.path("name").asText(),
                    GeminiPayloads.args(function));
            ObjectNode answer = GeminiPayloads.response(n, target.model(), GeminiPayloads.candidate(parts, "STOP"),
                    GeminiPayloads.usage(usage, candidates, thoughts, mode), mode);
            if (streaming) {
                stream(exchange, List.of(answer));
            } else {
                LoopbackEndpoint.sendJson(exchange, 200, GeminiPayloads.JSON.writeValueAsBytes(answer));
            }
            return;
        }
        String text = UsageCalculator.answerText(GeminiPayloads.lastUserText(request), candidates);
        if (!streaming) {
            ObjectNode answer = GeminiPayloads.response(n, target.model(),
                    GeminiPayloads.candidate(GeminiPayloads.textParts(text), finish),
                    GeminiPayloads.usage(usage, candidates, thoughts, mode), mode);
            LoopbackEndpoint.sendJson(exchange, 200, GeminiPayloads.JSON.writeValueAsBytes(answer));
            return;
        }
        List<String> pieces = UsageCalculator.split(text, STREAM_CHUNKS);
        List<ObjectNode> chunks = new ArrayList<>();
        for (int i = 0; i < pieces.size(); i++) {
            boolean last = i == pieces.size() - 1;
            // the candidates' count so far grows with the text; the last chunk has the final count
            long soFar = last ? candidates : Math.max(1, candidates * (i + 1) / pieces.size() - 1);
            chunks.add(GeminiPayloads.response(n, target.model(),
                    GeminiPayloads.candidate(GeminiPayloads.textParts(pieces.get(i)), last ? finish : null),
                    GeminiPayloads.usage(usage, soFar, thoughts, mode), mode));
        }
        stream(exchange, chunks);
    }

    /** Sends the chunks as an event stream ({@code alt=sse}) or, as the API does by default, as one JSON array. */
    private static void stream(HttpExchange exchange, List<ObjectNode> chunks) throws IOException {
        if ("sse".equals(queryParameter(exchange.getRequestURI().getRawQuery(), "alt"))) {
            try (OutputStream out = LoopbackEndpoint.startEventStream(exchange)) {
                for (ObjectNode chunk : chunks) {
                    out.write(("data: " + GeminiPayloads.JSON.writeValueAsString(chunk) + "\r\n\r\n")
                            .getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            }
            return;
        }
        exchange.getResponseHeaders().set("content-type", "application/json; charset=UTF-8");
        exchange.sendResponseHeaders(200, 0);
        try (OutputStream out = exchange.getResponseBody()) {
            for (int i = 0; i < chunks.size(); i++) {
                String prefix = i == 0 ? "[" : ",\r\n";
                out.write((prefix + GeminiPayloads.JSON.writeValueAsString(chunks.get(i)))
                        .getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
            out.write("]".getBytes(StandardCharsets.UTF_8));
        }
    }

    private void embed(HttpExchange exchange, int n, Map<String, List<String>> headers, String body, UsageMode mode,
                       boolean usageReported, List<JsonNode> items, boolean batch) throws IOException {
        long chars = 0;
        List<ObjectNode> embeddings = new ArrayList<>();
        for (JsonNode item : items) {
            chars += GeminiPayloads.contentChars(item.get("content"));
            int dimensions = item.path("outputDimensionality").canConvertToInt()
                    ? item.get("outputDimensionality").asInt() : DEFAULT_DIMENSIONS;
            embeddings.add(GeminiPayloads.embedding(GeminiPayloads.text(item.get("content")), dimensions));
        }
        StubUsage usage = UsageCalculator.forEmbeddings(n, chars);
        ledger.recordAnswer(n, exchange, headers, body, false, usageReported, usage, null);
        ObjectNode answer = GeminiPayloads.JSON.createObjectNode();
        if (!batch) {
            answer.set("embedding", embeddings.get(0));
        } else {
            ArrayNode all = answer.putArray("embeddings");
            embeddings.forEach(all::add);
        }
        GeminiPayloads.putUsage(answer, GeminiPayloads.embeddingUsage(usage.inputTokens(), mode), mode);
        LoopbackEndpoint.sendJson(exchange, 200, GeminiPayloads.JSON.writeValueAsBytes(answer));
    }

    private void countTokens(HttpExchange exchange, ModelMethod target, ObjectNode request,
                             Map<String, List<String>> headers, String body) throws IOException {
        int n = countTokensLedger.nextSequence();
        if (!hasApiKey(exchange, headers)) {
            fail(exchange, countTokensLedger, n, headers, body, false, GeminiPayloads.error(403,
                    "Method doesn't allow unregistered callers (callers without established identity)."));
            return;
        }
        if (request == null || !(request.path("contents").isArray() || request.has("generateContentRequest"))) {
            fail(exchange, countTokensLedger, n, headers, body, false, GeminiPayloads.error(400,
                    "* CountTokensRequest: either contents or generateContentRequest must be set"));
            return;
        }
        JsonNode counted = request.has("generateContentRequest") ? request.get("generateContentRequest") : request;
        long tokens = Math.max(1, GeminiPayloads.promptChars(counted) / 4 + 1);
        countTokensLedger.recordAnswer(n, exchange, headers, body, false, true, new StubUsage(tokens, 0, 0, 0), null);
        LoopbackEndpoint.sendJson(exchange, 200, GeminiPayloads.JSON.writeValueAsBytes(
                GeminiPayloads.tokensCount(tokens)));
    }

    /** Google's message for a request it would refuse as malformed, or null when it is fine. */
    private static String invalidRequest(String method, ObjectNode request) {
        if (request == null) {
            return "Invalid JSON payload received. Expected a JSON object.";
        }
        switch (method) {
            case "embedContent" -> {
                if (!request.path("content").path("parts").isArray()) {
                    return "* EmbedContentRequest.content: contents is not specified";
                }
            }
            case "batchEmbedContents" -> {
                if (!request.path("requests").isArray() || request.get("requests").isEmpty()) {
                    return "* BatchEmbedContentsRequest.requests: requests is not specified";
                }
                for (JsonNode item : request.get("requests")) {
                    if (!item.path("content").path("parts").isArray()) {
                        return "* BatchEmbedContentsRequest.requests[].content: contents is not specified";
                    }
                }
            }
            default -> {
                if (!request.path("contents").isArray() || request.get("contents").isEmpty()) {
                    return "* GenerateContentRequest.contents: contents is not specified";
                }
            }
        }
        return null;
    }

    /** Whether this model thinks by default and the request did not turn thinking off. */
    static boolean thinks(String model, JsonNode generationConfig) {
        String m = model.toLowerCase(Locale.ROOT);
        boolean thinkingModel = m.startsWith("gemini-2.5") || m.startsWith("gemini-3");
        JsonNode budget = generationConfig.path("thinkingConfig").path("thinkingBudget");
        return thinkingModel && !(budget.canConvertToLong() && budget.asLong() == 0);
    }

    /** The function the answer calls, or null when it answers with text. */
    private static JsonNode functionToCall(ObjectNode request) {
        if ("NONE".equalsIgnoreCase(request.path("toolConfig").path("functionCallingConfig").path("mode").asText())
                || GeminiPayloads.endsWithFunctionResponse(request)) {
            return null;
        }
        for (JsonNode tool : request.path("tools")) {
            JsonNode declarations = tool.path("functionDeclarations");
            if (declarations.isArray() && !declarations.isEmpty()) {
                return declarations.get(0);
            }
        }
        return null;
    }

    private static boolean hasApiKey(HttpExchange exchange, Map<String, List<String>> headers) {
        List<String> header = headers.get("x-goog-api-key");
        if (header != null && header.stream().anyMatch(v -> !v.isBlank())) {
            return true;
        }
        String key = queryParameter(exchange.getRequestURI().getRawQuery(), "key");
        return key != null && !key.isBlank();
    }

    /** The decoded value of a query parameter, or null. */
    static String queryParameter(String rawQuery, String name) {
        if (rawQuery == null) {
            return null;
        }
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            if (key.equals(name)) {
                return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    // ---- plumbing ----

    private static void fail(HttpExchange exchange, StubLedger ledger, int n, Map<String, List<String>> headers,
                             String body, boolean streaming, ObjectNode error) throws IOException {
        int status = error.path("error").path("code").asInt();
        ledger.recordFailure(n, exchange, headers, body, streaming, status);
        LoopbackEndpoint.sendJson(exchange, status, GeminiPayloads.JSON.writeValueAsBytes(error));
    }

    private static ObjectNode parseObject(String body) {
        try {
            JsonNode node = GeminiPayloads.JSON.readTree(body);
            return node instanceof ObjectNode object ? object : null;
        } catch (JsonProcessingException e) {
            return null;
        }
    }
}
