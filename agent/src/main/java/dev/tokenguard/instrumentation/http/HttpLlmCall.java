package dev.tokenguard.instrumentation.http;

import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.CallRequest;
import dev.tokenguard.core.GovernedThread;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.LlmCall;
import dev.tokenguard.core.TokenEstimator;
import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;
import dev.tokenguard.instrumentation.UnaskedStreamUsage;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * One request to a known LLM endpoint governed at the HTTP layer, whatever the HTTP client: begun
 * on the calling thread before anything is sent (so a refusal leaves no request), its response body
 * handed piece by piece to a usage reader on its way to the app, and charged once when the body
 * ends, is closed or fails.
 *
 * <p>The rule across layers: the HTTP layer governs only requests that no upper layer governs. It
 * stays out of a request made on a thread inside a governed SDK or framework call
 * ({@link GovernedThread}), and of a request that carries the marks of an SDK whose plugin is on
 * ({@link SdkMarks}), which covers the work such an SDK hands to other threads (async calls,
 * retries).
 */
public final class HttpLlmCall {
    private final LlmCall call;
    private final LlmRoute route;
    private volatile LlmRequest request;
    private volatile boolean bodyKnown;
    private final byte[] body;
    private final boolean hideUsageChunk;
    private final ResponseUsageReader reader;
    private final UsageChunkFilter filter;
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile int status = -1;
    /** The endpoint a probing stream teaches ({@link UnaskedStreamUsage}), or null when the stream is no probe. */
    private volatile String probedEndpoint;

    private HttpLlmCall(LlmCall call, LlmRoute route, LlmRequest request, byte[] body, boolean hideUsageChunk) {
        this.call = call;
        this.route = route;
        this.request = request;
        this.body = body;
        this.hideUsageChunk = hideUsageChunk;
        this.reader = ResponseUsageReader.of(route, request.model());
        this.filter = hideUsageChunk ? new UsageChunkFilter() : null;
    }

    /**
     * Starts governing a request, or decides it is not the HTTP layer's.
     *
     * @param sdkOn   whether the plugin of the named SDK is on (for {@link SdkMarks})
     * @param headers request header names and values (names in any case), for the SDKs' marks
     * @param body    the request body as it will be sent, or null when it cannot be read
     * @return the call, the {@code BudgetExhaustedException} to throw instead of sending, or null
     *         when the request is not governed here
     */
    public static Object begin(Governor governor, KnownEndpoints endpoints, Predicate<String> sdkOn, String method,
                               URI uri, Map<String, List<String>> headers, byte[] body) {
        if (GovernedThread.active()) {
            return null;
        }
        LlmRoute route = endpoints.match(method, uri);
        if (route == null || SdkMarks.ownedBySdk(headers, sdkOn)) {
            return null;
        }
        return start(governor, route, body, endpointOf(uri));
    }

    /**
     * The base URL of an OpenAI chat request as {@link UnaskedStreamUsage} names endpoints: its URI without
     * {@code /chat/completions} (so {@code http://host:port/v1}, the base URL an OpenAI SDK client is given) and
     * without the query.
     */
    static String endpointOf(URI uri) {
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        int api = path.lastIndexOf("/chat/completions");
        try {
            return UnaskedStreamUsage.endpoint(new URI(uri.getScheme(), uri.getRawAuthority(),
                    api >= 0 ? path.substring(0, api) : path, null, null));
        } catch (java.net.URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Starts governing a request whose route is already known, e.g. an SDK plugin that hands the SDK's own JSON
     * body and response bytes through this lifecycle (Azure OpenAI's protocol methods).
     *
     * @param body the request body as it will be sent, or null when it cannot be read
     * @return the call, the {@code BudgetExhaustedException} to throw instead of sending, or null when an internal
     *         failure leaves the request ungoverned
     */
    public static Object start(Governor governor, LlmRoute route, byte[] body) {
        return start(governor, route, body, null);
    }

    /**
     * As {@link #start(Governor, LlmRoute, byte[])}, for a request to {@code endpoint} (its base URL as
     * {@link UnaskedStreamUsage} names it; null when unknown, treated as a provider's own host): an OpenAI chat
     * stream that does not ask for usage is sent asking for it only where the endpoint is known to send none unasked;
     * to an endpoint not known yet it goes out as the app built it, and teaches the endpoint's habit.
     */
    public static Object start(Governor governor, LlmRoute route, byte[] body, String endpoint) {
        LlmRequest request = body == null ? null : LlmRequest.read(route, body);
        String model = request != null && request.model() != null ? request.model() : route.pathModel();
        boolean streaming = route.streamingPath() || (request != null && request.stream());
        Object started = governor.begin(new CallRequest(route.provider(), route.operation(), model, streaming,
                route.serverAddress(), route.serverPort(), request == null ? null : request.maxOutputTokens(),
                request == null ? null : request.promptText()));
        if (!(started instanceof LlmCall call)) {
            return started;
        }
        byte[] sent = body;
        boolean hide = false;
        boolean probe = false;
        // only OpenAI's wire format has stream_options; Ollama's, Gemini's and Anthropic's streams report usage unasked
        if (streaming && route.format() == WireFormat.OPENAI && route.asksForStreamUsage() && request != null
                && !request.includesUsage()) {
            byte[] asking = StreamUsageRequest.withIncludeUsage(body);
            if (asking != null) {
                switch (UnaskedStreamUsage.shared().plan(endpoint)) {
                    case ASK_AND_HIDE -> {
                        sent = asking;
                        hide = true;
                    }
                    case PROBE -> probe = true;
                    case LEAVE -> {
                        // the endpoint sends its usage unasked: the app's body goes out as it is, nothing is hidden
                    }
                }
            }
        }
        LlmRequest read = request != null ? request
                : new LlmRequest(model, streaming, null, false, null, false);
        HttpLlmCall begun = new HttpLlmCall(call, route, read, sent, hide);
        begun.bodyKnown = request != null;
        begun.probedEndpoint = probe ? endpoint : null;
        return begun;
    }

    /**
     * The request body, learnt only after the call began (an HTTP client that sends the body as the app
     * writes it, after the headers): it gives the prompt that a local estimate counts, should the response
     * carry no usage. The call's recorded model and streaming stay as begun. Ignored when the body was known.
     */
    public void bodySent(byte[] sentBody) {
        if (bodyKnown || sentBody == null) {
            return;
        }
        LlmRequest read = LlmRequest.read(route, sentBody);
        if (read != null) {
            request = read;
            bodyKnown = true;
        }
    }

    /** The body to send: the app's, or a copy asking for stream usage. */
    public byte[] body() {
        return body;
    }

    /** Whether {@link #body()} differs from what the app built. */
    public boolean bodyChanged() {
        return hideUsageChunk;
    }

    /** The response's status arrived; an error status fails the call when its body ends. */
    public void status(int code) {
        status = code;
    }

    /** The next piece of the response body; returns the bytes the app reads (a hidden usage chunk is left out). */
    public byte[] onBytes(byte[] b, int off, int len) {
        if (ended.get()) {
            return slice(b, off, len);
        }
        boolean last = false;
        try {
            reader.onBytes(b, off, len);
            last = filter == null && reader.lastMessageSeen();
        } catch (RuntimeException e) {
            AgentLog.failure("http.usage", e);
        }
        if (last) {
            // charged before the app can read the last message: a client that ends the call there (LangChain4j's
            // Ollama models do) may start the next request before the body's end arrives
            end(null);
        }
        return filter == null ? slice(b, off, len) : filter.filter(b, off, len);
    }

    /** The bytes still held back when the body ends (none unless a usage chunk was being checked). */
    public byte[] endOfBody() {
        return filter == null ? new byte[0] : filter.finish();
    }

    /** The body ended or was closed (error null), or reading it failed. Charges the call once. */
    public void end(Throwable error) {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        reader.onEnd();
        int code = status;
        String probed = probedEndpoint;
        if (probed != null && code < 400) {
            // a stream that did not ask: a usage chunk in it means the endpoint sends usage unasked; one that ran to
            // its [DONE] after a finish reason without any means it sends usage only when asked; one cut short or
            // closed early teaches nothing
            UnaskedStreamUsage.shared().learn(probed, reader.usageReported(),
                    error == null && reader.doneSeen() && !reader.usage().finishReasons().isEmpty());
        }
        if (error == null && code >= 400) {
            call.fail(new HttpStatusError(code), Usage.UNKNOWN);
            return;
        }
        Usage usage = reader.problem() == null ? reader.usage() : estimate();
        if (error != null) {
            call.fail(error, usage);
        } else {
            call.finish(usage);
        }
    }

    /** The request failed before any response (connection refused, timeout). */
    public void failed(Throwable error) {
        if (ended.compareAndSet(false, true)) {
            call.fail(error, Usage.UNKNOWN);
        }
    }

    private Usage estimate() {
        if (reader.problem() != null && reader.usage() == null && status < 400) {
            AgentLog.failure("usage.http." + route.provider(), "TokenGuard: " + route.provider() + " over HTTP: a"
                    + " response's usage could not be read (" + reader.problem() + "); such calls are charged a local"
                    + " estimate, marked usage_source estimated");
        }
        Usage partial = reader.usage();
        Long input = partial != null && partial.inputTokens() != null && partial.inputTokens() >= 0
                ? partial.inputTokens()
                : request.promptText() == null ? null : TokenEstimator.estimate(request.model(), request.promptText());
        Long output = route.api().hasOutput() ? reader.estimatedOutputTokens() : null;
        return new Usage(input, output, null, null, null, partial == null ? null : partial.responseModel(),
                partial == null ? null : partial.responseId(), partial == null ? List.of() : partial.finishReasons(),
                UsageSource.ESTIMATED);
    }

    private static byte[] slice(byte[] b, int off, int len) {
        if (off == 0 && len == b.length) {
            return b;
        }
        byte[] copy = new byte[len];
        System.arraycopy(b, off, copy, 0, len);
        return copy;
    }

    /** An error status, as the call's error type. */
    public static final class HttpStatusError extends Exception {
        HttpStatusError(int status) {
            super("HTTP " + status, null, false, false);
        }
    }
}
