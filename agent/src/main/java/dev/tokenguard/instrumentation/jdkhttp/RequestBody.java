package dev.tokenguard.instrumentation.jdkhttp;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Flow;

/**
 * Reads an {@code HttpRequest}'s body from its publisher, when that is one of the JDK's own
 * ({@code BodyPublishers.ofString}, {@code ofByteArray}, {@code ofByteArrays}, {@code ofFile},
 * {@code ofInputStream}, {@code noBody}): they deliver the whole body on the subscribing thread, and
 * the request the client then sends carries the bytes read here, so the body is produced once. Any
 * other publisher (the app's own, {@code fromPublisher}, {@code concat}) may deliver on another thread
 * or only once: the agent never subscribes to it, the request goes as built, and the call's model
 * and prompt come from the route and the response alone.
 */
final class RequestBody {
    /** The JDK's publishers that deliver their whole body while being subscribed to. */
    private static final Set<String> JDK_PUBLISHERS = Set.of(
            "jdk.internal.net.http.RequestPublishers$ByteArrayPublisher",
            "jdk.internal.net.http.RequestPublishers$StringPublisher",
            "jdk.internal.net.http.RequestPublishers$IterablePublisher",
            "jdk.internal.net.http.RequestPublishers$FilePublisher",
            "jdk.internal.net.http.RequestPublishers$InputStreamPublisher",
            "jdk.internal.net.http.RequestPublishers$EmptyPublisher");

    private RequestBody() {
    }

    /** The body's bytes, an empty array for a request without body, or null when it cannot be read now. */
    static byte[] read(HttpRequest request) {
        Optional<HttpRequest.BodyPublisher> publisher = request.bodyPublisher();
        if (publisher.isEmpty()) {
            return new byte[0];
        }
        if (!JDK_PUBLISHERS.contains(publisher.get().getClass().getName())) {
            return null;
        }
        Collector collector = new Collector();
        try {
            publisher.get().subscribe(collector);
        } catch (RuntimeException e) {
            return null; // e.g. an input stream supplier that fails: the client meets the same failure
        }
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
