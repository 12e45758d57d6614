package dev.tokenguard.instrumentation.http;

import dev.tokenguard.instrumentation.Callbacks;

import java.io.IOException;
import java.io.InputStream;

/**
 * A response body stream on its way to the app, for HTTP clients that hand the app a plain
 * {@link InputStream}. Every byte passes through {@link HttpLlmCall#onBytes}, so the usage reader sees
 * the body as the app reads it and a usage-only chunk the agent asked for is left out; the end of the
 * body, its close or a failed read end the call once.
 *
 * <p>A read returns at most what the app asked for and never 0 for a positive length before the end:
 * bytes the filter held back or hid mean reading on, bytes beyond the app's buffer wait for its next read.
 */
public final class ObservedBodyStream extends InputStream {
    private static final String KIND = "http.body";
    private static final byte[] NONE = new byte[0];

    private final InputStream delegate;
    private final HttpLlmCall call;
    private final byte[] scratch = new byte[8192];
    private byte[] pending = NONE;
    private int pendingOffset;
    private boolean exhausted;

    public ObservedBodyStream(InputStream delegate, HttpLlmCall call) {
        this.delegate = delegate;
        this.call = call;
    }

    /** The stream the app reads from. */
    public InputStream delegate() {
        return delegate;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        while (pendingOffset >= pending.length) {
            if (exhausted) {
                return -1;
            }
            int n;
            try {
                n = delegate.read(scratch, 0, Math.min(scratch.length, Math.max(len, 1)));
            } catch (IOException | RuntimeException e) {
                Callbacks.run(KIND, () -> call.end(e));
                throw e;
            }
            if (n < 0) {
                exhausted = true;
                pending = Callbacks.get(KIND, call::endOfBody, NONE);
                Callbacks.run(KIND, () -> call.end(null));
            } else {
                int count = n;
                byte[] shown = Callbacks.get(KIND, () -> call.onBytes(scratch, 0, count), null);
                pending = shown != null ? shown : copy(scratch, count);
            }
            pendingOffset = 0;
        }
        int count = Math.min(len, pending.length - pendingOffset);
        System.arraycopy(pending, pendingOffset, b, off, count);
        pendingOffset += count;
        return count;
    }

    @Override
    public synchronized int available() throws IOException {
        int held = pending.length - pendingOffset;
        return held > 0 ? held : call.bodyChanged() ? 0 : delegate.available();
    }

    @Override
    public void close() throws IOException {
        try {
            delegate.close();
        } finally {
            Callbacks.run(KIND, () -> call.end(null));
        }
    }

    private static byte[] copy(byte[] b, int len) {
        byte[] c = new byte[len];
        System.arraycopy(b, 0, c, 0, len);
        return c;
    }
}
