package dev.tokenguard.instrumentation.jdkhttp;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.http.HttpLayer;
import dev.tokenguard.instrumentation.http.HttpLlmCall;

import java.net.http.HttpRequest;

/**
 * {@code HttpClient.send}/{@code sendAsync}: a request to a known LLM endpoint is begun on the calling
 * thread, before anything is sent, so a refusal is thrown from the method itself. The request body is
 * read only once the request is known to be this layer's, and only from the JDK's own publishers
 * ({@link RequestBody}); the copy of the request the client sends carries exactly those bytes (or the
 * copy asking for stream usage).
 */
final class JdkHttpCallSite implements CallSite {
    private final boolean async;
    private final HttpLayer layer;

    JdkHttpCallSite(String method, Governor governor) {
        this.async = method.equals("sendAsync");
        this.layer = new HttpLayer(governor);
    }

    @Override
    public Object enter(Object target, Object request) {
        // everything that may leave the request to another layer is decided before its body is read
        if (!(request instanceof HttpRequest http) || !layer.governs(http.method(), http.uri(), http.headers().map())) {
            return null;
        }
        byte[] body = RequestBody.read(http);
        Object begun = layer.begin(http.method(), http.uri(), http.headers().map(), body);
        if (begun instanceof HttpLlmCall call) {
            // a request without a body goes as built; one whose body was read goes with those bytes
            return new JdkHttpCall(call, body != null && http.bodyPublisher().isPresent(), async);
        }
        return begun;
    }
}
