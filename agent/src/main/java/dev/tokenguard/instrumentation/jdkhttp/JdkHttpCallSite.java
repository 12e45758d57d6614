package dev.tokenguard.instrumentation.jdkhttp;

import dev.tokenguard.core.GovernedThread;
import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.http.HttpLlmCall;
import dev.tokenguard.instrumentation.http.KnownEndpoints;

import java.net.http.HttpRequest;

/**
 * {@code HttpClient.send}/{@code sendAsync}: a request to a known LLM endpoint is begun on the calling
 * thread, before anything is sent, so a refusal is thrown from the method itself. Only then is the
 * request body read, once; the copy of the request the client sends carries exactly those bytes (or
 * the copy asking for stream usage).
 */
final class JdkHttpCallSite implements CallSite {
    private final Governor governor;
    private final boolean async;
    private final KnownEndpoints endpoints;

    JdkHttpCallSite(String method, Governor governor) {
        this.governor = governor;
        this.async = method.equals("sendAsync");
        this.endpoints = new KnownEndpoints(governor.settings().httpEndpoints());
    }

    @Override
    public Object enter(Object target, Object request) {
        if (!(request instanceof HttpRequest http) || GovernedThread.active()
                || endpoints.match(http.method(), http.uri()) == null) {
            return null;
        }
        byte[] body = RequestBody.read(http);
        Object begun = HttpLlmCall.begin(governor, endpoints, governor.settings().pluginOn(), http.method(),
                http.uri(), http.headers().map(), body);
        if (begun instanceof HttpLlmCall call) {
            return new JdkHttpCall(call, body != null, async);
        }
        return begun;
    }
}
