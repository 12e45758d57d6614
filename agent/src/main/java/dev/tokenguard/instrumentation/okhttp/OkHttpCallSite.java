package dev.tokenguard.instrumentation.okhttp;

import dev.tokenguard.core.GovernedThread;
import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.http.HttpLlmCall;
import dev.tokenguard.instrumentation.http.KnownEndpoints;
import dev.tokenguard.instrumentation.http.LlmRoute;
import dev.tokenguard.instrumentation.http.SdkMarks;

import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * {@code RealCall.execute()} or {@code RealCall.enqueue(Callback)}: reads the call's request and, when
 * it goes to a known LLM endpoint that no upper layer governs, begins an {@link HttpLlmCall} before
 * anything is sent. The request body is read only once the route has matched and the request is
 * known not to be an SDK's own; every other request passes untouched.
 */
final class OkHttpCallSite implements CallSite {
    private final Governor governor;
    private final KnownEndpoints endpoints;
    private final boolean enqueue;

    OkHttpCallSite(String method, Governor governor) {
        this.governor = governor;
        this.endpoints = new KnownEndpoints(governor.settings().httpEndpoints());
        this.enqueue = method.equals("enqueue");
    }

    @Override
    public Object enter(Object target, Object callback) {
        if (GovernedThread.active()) {
            return null;
        }
        Object request = OkHttpRequests.of(target);
        String method = OkHttpRequests.method(request);
        URI uri = OkHttpRequests.uri(request);
        LlmRoute route = endpoints.match(method, uri);
        if (route == null) {
            return null;
        }
        Map<String, List<String>> headers = OkHttpRequests.headers(request);
        if (SdkMarks.ownedBySdk(headers, governor.settings().pluginOn())) {
            return null;
        }
        byte[] body = OkHttpRequests.body(request);
        Object begun = HttpLlmCall.begin(governor, endpoints, governor.settings().pluginOn(), method, uri, headers,
                body);
        if (!(begun instanceof HttpLlmCall call)) {
            return begun;
        }
        if (call.bodyChanged()) {
            OkHttpRequests.replaceBody(target, request, call.body());
        }
        return new OkHttpCall(call, enqueue, target.getClass().getClassLoader());
    }
}
