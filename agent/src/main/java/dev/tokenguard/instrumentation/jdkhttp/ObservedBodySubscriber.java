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
 * (before the app sees the completion), fails, or the app cancels its subscription. Bytes held back until the
 * body's end (an event no blank line closed) reach the app as one more item, and only once the app asked for one:
 * a subscriber such as {@code ofInputStream}'s takes no more items than it requested.
 */
final class ObservedBodySubscriber<T> implements HttpResponse.BodySubscriber<T> {
    private static final String KIND = "jdk-http-client.body";

    private final HttpResponse.BodySubscriber<T> app;
    private final HttpLlmCall call;
    private final Object lock = new Object();
    /** Items the app asked for and has not received yet. */
    private long demand;
    /** The held-back end of a body that completed while the app had asked for nothing more, or null. */
    private byte[] pendingRest;

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
                byte[] rest = null;
                if (n > 0) {
                    synchronized (lock) {
                        demand = Long.MAX_VALUE - demand < n ? Long.MAX_VALUE : demand + n;
                        rest = pendingRest;
                        pendingRest = null;
                    }
                }
                if (rest != null) {
                    // the body completed while the app had asked for nothing more: its held-back end goes now
                    app.onNext(List.of(ByteBuffer.wrap(rest)));
                    app.onComplete();
                    return;
                }
                subscription.request(n);
            }

            @Override
            public void cancel() {
                synchronized (lock) {
                    pendingRest = null;
                }
                Callbacks.run(KIND, () -> call.end(null));
                subscription.cancel();
            }
        });
    }

    @Override
    public void onNext(List<ByteBuffer> item) {
        synchronized (lock) {
            if (demand != Long.MAX_VALUE) {
                demand--;
            }
        }
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
        Callbacks.run(KIND, () -> call.end(null));
        if (rest.length > 0) {
            // the held-back end is one more item, which the app may receive only once it asked for one
            synchronized (lock) {
                if (demand <= 0) {
                    pendingRest = rest;
                    return;
                }
                if (demand != Long.MAX_VALUE) {
                    demand--;
                }
            }
            app.onNext(List.of(ByteBuffer.wrap(rest)));
        }
        app.onComplete();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer view = buffer.duplicate();
        byte[] bytes = new byte[view.remaining()];
        view.get(bytes);
        return bytes;
    }
}
