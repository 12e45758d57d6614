package dev.tokenguard.instrumentation.apachehttp;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.http.HttpLayer;
import dev.tokenguard.instrumentation.http.HttpLlmCall;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * {@code doExecute(HttpHost, ClassicHttpRequest, HttpContext)}: a request to a known LLM endpoint that
 * no upper layer governs is begun before anything is sent, so a refusal is thrown from the
 * {@code execute} the app called. The request entity is read only once the request is known to be this
 * layer's: a repeatable one by writing it, any other by reading it up, in which case the request goes
 * with a repeatable entity of the same bytes.
 */
final class ApacheHttpCallSite implements CallSite {
    private final HttpLayer layer;

    ApacheHttpCallSite(String method, Governor governor) {
        this.layer = new HttpLayer(governor);
    }

    @Override
    public Object enter(Object client, Object arguments) {
        if (!(arguments instanceof Object[] args) || args.length != 3 || args[1] == null) {
            return null;
        }
        ApacheMessages messages = ApacheMessages.of(client);
        Object request = args[1];
        String method = messages.method(request);
        URI uri = messages.uri(args[0], request);
        if (!layer.governs(method, uri, null)) {
            return null;
        }
        Map<String, List<String>> headers = messages.headers(request);
        if (!layer.governs(method, uri, headers)) {
            return null;
        }
        Object entity = messages.entity(request);
        Object sent = entity;
        byte[] body = null;
        if (entity != null) {
            boolean once = !messages.repeatable(entity);
            try {
                body = messages.read(entity);
            } catch (IOException e) {
                // the app's entity fails when read: left to the client, which meets the same failure
                return null;
            }
            if (once) {
                sent = SentEntity.of(messages, entity, body);
                messages.setEntity(request, sent);
            }
        }
        Object begun = layer.begin(method, uri, headers, body);
        if (!(begun instanceof HttpLlmCall call)) {
            return begun;
        }
        if (call.bodyChanged()) {
            messages.setEntity(request, SentEntity.of(messages, entity, call.body()));
            return new ApacheHttpCall(call, messages, request, sent);
        }
        return new ApacheHttpCall(call, messages, request, null);
    }
}
