package dev.tokenguard.instrumentation.jdkhttp;

import dev.tokenguard.instrumentation.Callbacks;
import dev.tokenguard.instrumentation.http.HttpLlmCall;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * The app's body subscriber, fed through the governed call: every piece of the body is read (through
 * a duplicate, so the app's buffers are untouched) by the call's usage reader. The app gets its
 * buffers as they came unless the agent asked for stream usage, in which case it gets new buffers with
 * exactly the bytes it would have had without the agent. The call ends once: when the body completes
 * (before the app sees the completion), fails, or the app cancels its subscription.
 */
final class ObservedBodySubscriber<T> implements HttpResponse.BodySubscriber<T> {
    private static final String KIND = "jdk-http-client.body";

    private final HttpResponse.BodySubscriber<T> app;
    private final HttpLlmCall call;

    ObservedBodySubscriber(HttpResponse.BodySubscriber<T> app, HttpLlmCall call) {
        this.app = app;
        this.call = call;
    }

    @Override
    public CompletionStage<T> getBody() {
        return app.getBody();
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        app.onSubscribe(new Flow.Subscription() {
            @Override
            public void request(long n) {
                subscription.request(n);
            }

            @Override
            public void cancel() {
                Callbacks.run(KIND, () -> call.end(null));
                subscription.cancel();
            }
        });
    }

    @Override
    public void onNext(List<ByteBuffer> item) {
        app.onNext(Callbacks.get(KIND, () -> observe(item), item));
    }

    private List<ByteBuffer> observe(List<ByteBuffer> item) {
        if (!call.bodyChanged()) {
            for (ByteBuffer buffer : item) {
                byte[] bytes = bytes(buffer);
                call.onBytes(bytes, 0, bytes.length);
            }
            return item;
        }
        java.io.ByteArrayOutputStream shown = new java.io.ByteArrayOutputStream();
        for (ByteBuffer buffer : item) {
            byte[] bytes = bytes(buffer);
            byte[] kept = call.onBytes(bytes, 0, bytes.length);
            shown.write(kept, 0, kept.length);
        }
        return List.of(ByteBuffer.wrap(shown.toByteArray()));
    }

    @Override
    public void onError(Throwable throwable) {
        Callbacks.run(KIND, () -> call.end(throwable));
        app.onError(throwable);
    }

    @Override
    public void onComplete() {
        byte[] rest = Callbacks.get(KIND, call::endOfBody, new byte[0]);
        if (rest.length > 0) {
            app.onNext(List.of(ByteBuffer.wrap(rest)));
        }
        Callbacks.run(KIND, () -> call.end(null));
        app.onComplete();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer view = buffer.duplicate();
        byte[] bytes = new byte[view.remaining()];
        view.get(bytes);
        return bytes;
    }
}
