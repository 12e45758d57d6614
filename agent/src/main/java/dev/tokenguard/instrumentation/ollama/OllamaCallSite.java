package dev.tokenguard.instrumentation.ollama;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.SdkObjects;
import dev.tokenguard.instrumentation.http.HttpLlmCall;
import dev.tokenguard.instrumentation.http.LlmRoute;
import dev.tokenguard.instrumentation.http.WireApi;

import java.net.URI;

/**
 * Starts governing one request of ollama4j: a chat or generate caller's {@code callSync(request)}, or
 * {@code Ollama.embed(request)}. The request's JSON (as the SDK writes it) gives the model, whether it streams
 * and, should the response carry no counts, the prompt to estimate; the client's host gives the server's address.
 */
final class OllamaCallSite implements CallSite {
    private final WireApi api;
    private final Governor governor;

    OllamaCallSite(WireApi api, Governor governor) {
        this.api = api;
        this.governor = governor;
    }

    @Override
    public Object enter(Object client, Object request) {
        if (request == null) {
            return null;
        }
        URI server = server(api == WireApi.OLLAMA_EMBED ? OllamaJson.host(client)
                : SdkObjects.get(client, "getHost") instanceof String host ? host : null);
        String address = server == null ? null : server.getHost();
        int port = server == null ? -1 : server.getPort() >= 0 ? server.getPort()
                : "https".equalsIgnoreCase(server.getScheme()) ? 443 : 80;
        LlmRoute route = new LlmRoute("ollama", api, null, false, false, address, port);
        Object started = HttpLlmCall.start(governor, route, OllamaJson.bytes(request));
        return started instanceof HttpLlmCall call ? OllamaCall.begin(api, call) : started;
    }

    private static URI server(String host) {
        if (host == null) {
            return null;
        }
        try {
            URI uri = URI.create(host.trim());
            return uri.getHost() == null ? null : uri;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
