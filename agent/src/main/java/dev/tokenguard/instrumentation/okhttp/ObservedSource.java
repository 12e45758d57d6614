package dev.tokenguard.instrumentation.okhttp;

import dev.tokenguard.instrumentation.Callbacks;
import dev.tokenguard.instrumentation.http.HttpLlmCall;

import static dev.tokenguard.instrumentation.okhttp.OkHttpNames.okhttp;
import static dev.tokenguard.instrumentation.okhttp.OkHttpNames.okio;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.function.Supplier;

/**
 * An {@code okio.Source} (a JDK proxy: the agent does not link against Okio) in front of a response
 * body's source. Every byte the app reads passes through {@link HttpLlmCall#onBytes}, so the usage
 * reader sees the body as it is read and a usage-only chunk the agent asked for is left out; the end
 * of the body, its close or a failed read end the call once.
 *
 * <p>{@code read(sink, n)} hands the app at most {@code n} bytes and never zero (Okio's buffered
 * source takes a zero as "not exhausted" with nothing buffered): bytes the filter held back or hid
 * mean reading on, and bytes beyond {@code n} wait for the next read.
 */
final class ObservedSource implements InvocationHandler {
    private static final byte[] NONE = new byte[0];

    private final Object delegate;
    private final HttpLlmCall call;
    private final Method read;
    private final Method readByteArray;
    private final Method write;
    private final Object scratch;
    private byte[] pending = NONE;
    private int pendingOffset;
    private boolean exhausted;

    ObservedSource(Object delegate, HttpLlmCall call, ClassLoader loader) throws ReflectiveOperationException {
        this.delegate = delegate;
        this.call = call;
        Class<?> source = Class.forName(okio("Source"), false, loader);
        Class<?> buffer = Class.forName(okio("Buffer"), false, loader);
        this.read = source.getMethod("read", buffer, long.class);
        this.readByteArray = buffer.getMethod("readByteArray");
        this.write = buffer.getMethod("write", byte[].class, int.class, int.class);
        this.scratch = buffer.getConstructor().newInstance();
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        switch (method.getName()) {
            case "read":
                if (args != null && args.length == 2) {
                    return read(args[0], (Long) args[1]);
                }
                break;
            case "close":
                if (args == null || args.length == 0) {
                    try {
                        invokeOn(method, null);
                    } finally {
                        Callbacks.run("okhttp.close", new End(call, null));
                    }
                    return null;
                }
                break;
            case "equals":
                return args != null && args.length == 1 && proxy == args[0];
            case "hashCode":
                if (args == null || args.length == 0) {
                    return System.identityHashCode(proxy);
                }
                break;
            case "toString":
                if (args == null || args.length == 0) {
                    return "TokenGuard observed " + delegate;
                }
                break;
            default:
                break;
        }
        return invokeOn(method, args);
    }

    private synchronized long read(Object sink, long byteCount) throws Throwable {
        if (byteCount < 0) {
            throw new IllegalArgumentException("byteCount < 0: " + byteCount);
        }
        if (byteCount == 0) {
            return 0;
        }
        while (pendingOffset >= pending.length) {
            if (exhausted) {
                return -1;
            }
            long n;
            try {
                n = (Long) read.invoke(delegate, scratch, byteCount);
            } catch (InvocationTargetException e) {
                Throwable failure = e.getCause();
                Callbacks.run("okhttp.read", new End(call, failure));
                throw failure;
            }
            if (n < 0) {
                exhausted = true;
                pending = Callbacks.get("okhttp.read", new EndOfBody(call), NONE);
                Callbacks.run("okhttp.read", new End(call, null));
            } else {
                byte[] bytes = (byte[]) readByteArray.invoke(scratch);
                pending = Callbacks.get("okhttp.read", new Bytes(call, bytes), bytes);
            }
            pendingOffset = 0;
        }
        int count = (int) Math.min(byteCount, pending.length - pendingOffset);
        write.invoke(sink, pending, pendingOffset, count);
        pendingOffset += count;
        return count;
    }

    private Object invokeOn(Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(delegate, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /**
     * Ends the call ({@code failure} null: as it stands). This and the two below are classes of their own, not lambdas,
     * whose classes would be spun at run time in the first call.
     */
    private static final class End implements Runnable {
        private final HttpLlmCall call;
        private final Throwable failure;

        End(HttpLlmCall call, Throwable failure) {
            this.call = call;
            this.failure = failure;
        }

        @Override
        public void run() {
            call.end(failure);
        }
    }

    /** What the app still reads at the end of the body. */
    private static final class EndOfBody implements Supplier<byte[]> {
        private final HttpLlmCall call;

        EndOfBody(HttpLlmCall call) {
            this.call = call;
        }

        @Override
        public byte[] get() {
            return call.endOfBody();
        }
    }

    /** What the app reads of {@code bytes}. */
    private static final class Bytes implements Supplier<byte[]> {
        private final HttpLlmCall call;
        private final byte[] bytes;

        Bytes(HttpLlmCall call, byte[] bytes) {
            this.call = call;
            this.bytes = bytes;
        }

        @Override
        public byte[] get() {
            return call.onBytes(bytes, 0, bytes.length);
        }
    }
}
