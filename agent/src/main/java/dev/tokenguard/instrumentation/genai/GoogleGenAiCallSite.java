package dev.tokenguard.instrumentation.genai;

import dev.tokenguard.core.GovernedThread;
import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.SdkObjects;
import dev.tokenguard.instrumentation.http.HttpLlmCall;
import dev.tokenguard.instrumentation.http.KnownEndpoints;
import dev.tokenguard.instrumentation.http.LlmRoute;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Starts governing one request of the Google GenAI SDK: {@code request(httpMethod, path, json, options)} or its
 * async twin. The path names the API and the model; the client tells the backend (Vertex AI or the Gemini API)
 * and its base URL (the request's own options first), which give the provider and the server. Requests of any
 * other API, and the upload variant whose body is bytes, are not governed.
 */
final class GoogleGenAiCallSite implements CallSite {
    private final boolean async;
    private final Governor governor;

    GoogleGenAiCallSite(boolean async, Governor governor) {
        this.async = async;
        this.governor = governor;
    }

    @Override
    public Object enter(Object client, Object request) {
        // the blocking request(...) is reached through a bridge method of the same name: the outer one governs
        if (GovernedThread.active() || !(request instanceof Object[] args) || args.length != 4
                || !(args[0] instanceof String method) || !method.equalsIgnoreCase("post")
                || !(args[1] instanceof String path) || !(args[2] instanceof String json)) {
            return null;
        }
        boolean vertex = Boolean.TRUE.equals(SdkObjects.get(client, "vertexAI"));
        URI server = baseUrl(args[3]);
        if (server == null) {
            server = baseUrl(SdkObjects.get(client, "httpOptions"));
        }
        String host = server == null ? null : server.getHost();
        int port = server == null ? -1 : server.getPort() >= 0 ? server.getPort()
                : "http".equalsIgnoreCase(server.getScheme()) ? 80 : 443;
        LlmRoute route = KnownEndpoints.sdkRoute(vertex ? "gcp.vertex_ai" : "gcp.gemini", path, host, port);
        if (route == null) {
            return null;
        }
        Object started = HttpLlmCall.start(governor, route, json.getBytes(StandardCharsets.UTF_8));
        return started instanceof HttpLlmCall call ? new GoogleGenAiCall(call, async) : started;
    }

    /** The base URL of {@code HttpOptions} (or of an {@code Optional} of them), or null. */
    private static URI baseUrl(Object options) {
        Object value = options instanceof Optional<?> optional ? optional.orElse(null) : options;
        if (!(SdkObjects.get(value, "baseUrl") instanceof String url)) {
            return null;
        }
        try {
            URI uri = URI.create(url);
            return uri.getHost() == null ? null : uri;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
