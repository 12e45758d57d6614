package dev.tokenguard.otel;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Ends the I/O threads of an OTLP sender's HTTP client at JVM exit, so that none is left blocked in a socket or
 * selector call.
 *
 * <p>Why: a JVM that exits waits for every thread that is in native code (a blocking socket read, a selector's
 * {@code epoll_wait}) to come back from it, for at least 300 ms, before it ends; daemon threads included. The JDK
 * {@code HttpClient} behind http/protobuf always has one such thread (its selector manager), and OkHttp's HTTP/2
 * connection behind gRPC one per connection (its frame reader). Left alone, they made the JVM's exit after the
 * shutdown hook take 0.39-1.25 s with an endpoint configured, healthy or not, against about 50 ms without one
 * (measured on a loaded 2-core machine).
 *
 * <p>The clients are the senders' own, read from their private {@code client} field: a newer OpenTelemetry release
 * that renames it leaves its threads alone (the exit is then slower, nothing breaks). Every step here swallows its
 * failures: this runs in the JVM's shutdown.
 */
final class SenderThreads {
    /** The longest {@link #awaitEnd} waits for all the clients' threads together. */
    static final long WAIT_MILLIS = 100;

    private SenderThreads() {
    }

    /**
     * Stops the JDK {@code HttpClient} of {@code sender} (OpenTelemetry's JDK HTTP sender), in-flight requests
     * included: {@code shutdownNow()} where the JDK has it (21+); on older JDKs its selector manager thread is
     * interrupted, which makes the client close its connections and the thread end. Does not wait.
     *
     * @return the client's selector thread, to wait for, or null when it was not found
     */
    static Thread stopJdkClient(Object sender) {
        Object client = field(sender, "client");
        if (!(client instanceof java.net.http.HttpClient)) {
            return null;
        }
        try {
            Method shutdownNow = java.net.http.HttpClient.class.getMethod("shutdownNow");
            shutdownNow.invoke(client);
        } catch (ReflectiveOperationException | RuntimeException olderJdk) {
            // before JDK 21: the selector thread below is interrupted instead
        }
        Thread selector = jdkSelectorThread(client);
        if (selector != null) {
            selector.interrupt();
        }
        return selector;
    }

    /**
     * The selector manager thread of a JDK {@code HttpClient}, named {@code HttpClient-<id>-SelectorManager}, the
     * id being the one the client's {@code toString()} ends with in parentheses (as the JDK's own tests find it).
     */
    static Thread jdkSelectorThread(Object client) {
        String text = String.valueOf(client);
        int open = text.lastIndexOf('(');
        int close = text.lastIndexOf(')');
        if (open < 0 || close < open + 2) {
            return null;
        }
        String name = "HttpClient-" + text.substring(open + 1, close) + "-SelectorManager";
        for (Thread thread : allThreads()) {
            if (thread != null && name.equals(thread.getName())) {
                return thread;
            }
        }
        return null;
    }

    /**
     * The OkHttp client of {@code sender} (OpenTelemetry's OkHttp gRPC sender), whose connections
     * {@link #awaitEnd} closes once the sender's own shutdown has cancelled its calls; null if not found.
     */
    static Object okHttpClient(Object sender) {
        return field(sender, "client");
    }

    /**
     * Waits, {@link #WAIT_MILLIS} at most for all of them together, until the selector threads have ended and the
     * OkHttp clients have no connection left: a connection becomes idle once its cancelled calls have let go of
     * it, so idle connections are evicted again until none is left.
     */
    static void awaitEnd(List<Thread> selectors, List<Object> okHttpClients) {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        try {
            while (true) {
                boolean ended = true;
                for (Thread selector : selectors) {
                    ended &= !selector.isAlive();
                }
                for (Object client : okHttpClients) {
                    ended &= evictIdle(client);
                }
                if (ended || System.nanoTime() - until >= 0) {
                    return;
                }
                Thread.sleep(2);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Closes the idle connections of an OkHttp client; whether none is left (or the client is not OkHttp's). */
    private static boolean evictIdle(Object client) {
        try {
            Object pool = client.getClass().getMethod("connectionPool").invoke(client);
            pool.getClass().getMethod("evictAll").invoke(pool);
            return (int) pool.getClass().getMethod("connectionCount").invoke(pool) == 0;
        } catch (ReflectiveOperationException | RuntimeException anotherOkHttp) {
            return true; // its threads are left as they are
        }
    }

    private static Object field(Object owner, String name) {
        for (Class<?> type = owner.getClass(); type != null; type = type.getSuperclass()) {
            try {
                Field field = type.getDeclaredField(name);
                field.setAccessible(true);
                return field.get(owner);
            } catch (NoSuchFieldException e) {
                // look in the superclass
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }
        return null;
    }

    private static Thread[] allThreads() {
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null) {
            root = root.getParent();
        }
        Thread[] threads = new Thread[root.activeCount() + 16];
        int count = root.enumerate(threads, true);
        return java.util.Arrays.copyOf(threads, count);
    }

}
