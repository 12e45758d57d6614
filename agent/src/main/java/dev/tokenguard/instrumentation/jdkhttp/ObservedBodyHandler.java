package dev.tokenguard.instrumentation.jdkhttp;

import dev.tokenguard.instrumentation.Callbacks;
import dev.tokenguard.instrumentation.http.HttpLlmCall;

import java.net.http.HttpResponse;

/**
 * The app's body handler with the governed call in front: it passes the response's status to the
 * call and wraps the app's body subscriber in an {@link ObservedBodySubscriber}. Only JDK interfaces
 * are involved, so the app's own handler and subscriber are used as they are.
 */
final class ObservedBodyHandler<T> implements HttpResponse.BodyHandler<T> {
    private final HttpResponse.BodyHandler<T> app;
    private final HttpLlmCall call;

    private ObservedBodyHandler(HttpResponse.BodyHandler<T> app, HttpLlmCall call) {
        this.app = app;
        this.call = call;
    }

    static <T> ObservedBodyHandler<T> of(HttpResponse.BodyHandler<T> app, HttpLlmCall call) {
        return new ObservedBodyHandler<>(app, call);
    }

    @Override
    public HttpResponse.BodySubscriber<T> apply(HttpResponse.ResponseInfo info) {
        Callbacks.run("jdk-http-client.status", () -> call.status(info.statusCode()));
        HttpResponse.BodySubscriber<T> subscriber = app.apply(info);
        return subscriber == null ? null : new ObservedBodySubscriber<>(subscriber, call);
    }
}
