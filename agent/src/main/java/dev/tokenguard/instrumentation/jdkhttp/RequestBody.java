package dev.tokenguard.instrumentation.jdkhttp;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.concurrent.Flow;

/**
 * Reads an {@code HttpRequest}'s body from its publisher, when the publisher delivers it on the
 * calling thread: the JDK's own publishers ({@code ofString}, {@code ofByteArray}, {@code ofFile},
 * {@code ofInputStream}, ...) do. A publisher that would deliver later, on another thread, is
 * cancelled and its body left unread; the call is then charged an estimate without the prompt.
 */
final class RequestBody {
    /** The largest body read; a bigger one is left to the estimate. */
    static final long MAX_BYTES = 32L * 1024 * 1024;

    private RequestBody() {
    }

    /** The body's bytes, an empty array for a request without body, or null when it cannot be read now. */
    static byte[] read(HttpRequest request) {
        Optional<HttpRequest.BodyPublisher> publisher = request.bodyPublisher();
        if (publisher.isEmpty()) {
            return new byte[0];
        }
        Collector collector = new Collector();
        publisher.get().subscribe(collector);
        return collector.bytes();
    }

    private static final class Collector implements Flow.Subscriber<ByteBuffer> {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private Flow.Subscription subscription;
        private boolean complete;
        private boolean failed;

        @Override
        public synchronized void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public synchronized void onNext(ByteBuffer item) {
            if (failed || complete) {
                return;
            }
            ByteBuffer view = item.duplicate();
            if (out.size() + (long) view.remaining() > MAX_BYTES) {
                failed = true;
                subscription.cancel();
                return;
            }
            byte[] chunk = new byte[view.remaining()];
            view.get(chunk);
            out.write(chunk, 0, chunk.length);
        }

        @Override
        public synchronized void onError(Throwable throwable) {
            failed = true;
        }

        @Override
        public synchronized void onComplete() {
            complete = true;
        }

        /** The bytes when the publisher completed while subscribing; otherwise cancels and returns null. */
        synchronized byte[] bytes() {
            if (complete && !failed) {
                return out.toByteArray();
            }
            failed = true;
            if (subscription != null) {
                subscription.cancel();
            }
            return null;
        }
    }
}
