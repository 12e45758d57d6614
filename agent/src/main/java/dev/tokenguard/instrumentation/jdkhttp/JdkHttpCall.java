package dev.tokenguard.instrumentation.jdkhttp;

import dev.tokenguard.instrumentation.Callbacks;
import dev.tokenguard.instrumentation.GovernedCall;
import dev.tokenguard.instrumentation.http.HttpLlmCall;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;

/**
 * One governed {@code send}/{@code sendAsync}: the request the client sends carries the body the
 * agent read (or the copy asking for stream usage), and the app's body handler is wrapped so that
 * the response body passes through {@link HttpLlmCall} on its way to the app.
 */
final class JdkHttpCall implements GovernedCall {
    private final HttpLlmCall call;
    private final boolean bodyRead;
    private final boolean async;

    JdkHttpCall(HttpLlmCall call, boolean bodyRead, boolean async) {
        this.call = call;
        this.bodyRead = bodyRead;
        this.async = async;
    }

    @Override
    public Object request(Object request) {
        if (!bodyRead || !(request instanceof HttpRequest http)) {
            return request;
        }
        return HttpRequest.newBuilder(http, (name, value) -> true)
                .method(http.method(), HttpRequest.BodyPublishers.ofByteArray(call.body()))
                .build();
    }

    @Override
    public Object argument(int index, Object value) {
        if (index == 1 && value instanceof HttpResponse.BodyHandler<?> handler) {
            return ObservedBodyHandler.of(handler, call);
        }
        return value;
    }

    @Override
    public Object exit(Object returned, Throwable thrown) {
        if (thrown != null) {
            call.failed(thrown);
        } else if (async && returned instanceof CompletableFuture<?> future) {
            future.whenComplete((response, error) -> {
                if (error != null) {
                    Callbacks.run("jdk-http-client.failed", () -> call.failed(error));
                }
            });
        }
        return returned;
    }
}
