package dev.tokenguard.instrumentation.okhttp;

import dev.tokenguard.core.GovernedThread;
import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.http.HttpLayer;
import dev.tokenguard.instrumentation.http.HttpLlmCall;

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
    private final HttpLayer layer;
    private final boolean enqueue;

    OkHttpCallSite(String method, Governor governor) {
        this.layer = new HttpLayer(governor);
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
        if (!layer.governs(method, uri, null)) {
            return null;
        }
        Map<String, List<String>> headers = OkHttpRequests.headers(request);
        if (!layer.governs(method, uri, headers)) {
            return null;
        }
        byte[] body = OkHttpRequests.body(request);
        Object begun = layer.begin(method, uri, headers, body);
        if (!(begun instanceof HttpLlmCall call)) {
            return begun;
        }
        if (call.bodyChanged()) {
            OkHttpRequests.replaceBody(target, request, call.body());
        }
        return new OkHttpCall(call, enqueue, target.getClass().getClassLoader());
    }
}
