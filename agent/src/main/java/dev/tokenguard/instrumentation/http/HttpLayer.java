package dev.tokenguard.instrumentation.http;

import dev.tokenguard.core.GovernedThread;
import dev.tokenguard.core.Governor;

import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * What every HTTP client's call site asks before it touches a request body: whether the request is
 * this layer's at all. Only when it is does the call site read the body (which may cost a copy, or be
 * impossible twice) and {@linkplain #begin begin} the {@link HttpLlmCall}. The endpoints are read
 * from the governor's settings once, when the call site is made.
 */
public final class HttpLayer {
    private final Governor governor;
    private final KnownEndpoints endpoints;

    public HttpLayer(Governor governor) {
        this.governor = governor;
        this.endpoints = new KnownEndpoints(governor.settings().httpEndpoints());
    }

    /**
     * Whether a request may be this layer's: not on a thread inside a governed call, to a known LLM
     * endpoint, and (when {@code headers} are given) without the marks of an SDK whose plugin is on.
     */
    public boolean governs(String method, URI uri, Map<String, List<String>> headers) {
        return !GovernedThread.active() && endpoints.match(method, uri) != null
                && !SdkMarks.ownedBySdk(headers, governor.settings().pluginOn());
    }

    /** {@link HttpLlmCall#begin}: the call, the refusal to throw, or null when the request is not this layer's. */
    public Object begin(String method, URI uri, Map<String, List<String>> headers, byte[] body) {
        return HttpLlmCall.begin(governor, endpoints, governor.settings().pluginOn(), method, uri, headers, body);
    }
}
