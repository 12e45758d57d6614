package dev.tokenguard.instrumentation.apachehttp;

import dev.tokenguard.instrumentation.GovernedCall;
import dev.tokenguard.instrumentation.http.HttpLlmCall;

/**
 * One governed {@code doExecute}: when it returns, the request gets back the entity the app gave it
 * (where the agent sent a copy asking for stream usage), and the response's entity is replaced by an
 * {@link ObservedEntity}, through which the call sees the body and ends.
 */
final class ApacheHttpCall implements GovernedCall {
    private final HttpLlmCall call;
    private final ApacheMessages messages;
    private final Object request;
    private final Object restore;

    /** @param restore the entity to put back into the request once it is sent, or null */
    ApacheHttpCall(HttpLlmCall call, ApacheMessages messages, Object request, Object restore) {
        this.call = call;
        this.messages = messages;
        this.request = request;
        this.restore = restore;
    }

    @Override
    public Object request(Object request) {
        return request;
    }

    @Override
    public Object exit(Object returned, Throwable thrown) {
        try {
            if (restore != null) {
                messages.setEntity(request, restore);
            }
        } finally {
            if (thrown != null) {
                call.failed(thrown);
            } else if (returned == null) {
                call.end(null);
            } else {
                observe(returned);
            }
        }
        return returned;
    }

    private void observe(Object response) {
        try {
            call.status(messages.code(response));
            Object entity = messages.entity(response);
            if (entity == null) {
                call.end(null);
                return;
            }
            messages.setEntity(response, ObservedEntity.of(messages, entity, call));
        } catch (RuntimeException | LinkageError e) {
            call.end(null);
            throw e;
        }
    }
}
