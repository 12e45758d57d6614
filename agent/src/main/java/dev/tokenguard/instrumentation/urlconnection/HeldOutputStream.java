package dev.tokenguard.instrumentation.urlconnection;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The request body stream the app writes to, in front of the connection's own buffer: every byte goes
 * to that buffer and into a copy the agent reads when it decides the call. The app's {@code close()}
 * is held back until then, because the connection's buffer ignores writes once closed and the agent may
 * still have to put a copy asking for stream usage in place of the app's bytes; the connection closes
 * its buffer itself when it sends it. In a streaming mode the bytes leave as they are written: only the
 * copy is kept, for the prompt a local estimate counts.
 */
final class HeldOutputStream extends OutputStream {
    private final OutputStream target;
    private final boolean holdClose;
    private final ByteArrayOutputStream copy = new ByteArrayOutputStream();
    private boolean released;
    private boolean closedByApp;

    /** @param holdClose whether the app's close waits for the decision (false: the body leaves as written) */
    HeldOutputStream(OutputStream target, boolean holdClose) {
        this.target = target;
        this.holdClose = holdClose;
    }

    OutputStream target() {
        return target;
    }

    @Override
    public synchronized void write(int b) throws IOException {
        target.write(b);
        if (!released) {
            copy.write(b);
        }
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        target.write(b, off, len);
        if (!released) {
            copy.write(b, off, len);
        }
    }

    @Override
    public void flush() throws IOException {
        target.flush();
    }

    @Override
    public synchronized void close() throws IOException {
        if (released || !holdClose) {
            target.close();
        } else {
            closedByApp = true;
        }
    }

    /** What the app has written so far. */
    synchronized byte[] bytes() {
        return copy.toByteArray();
    }

    /** Puts {@code body} in the connection's buffer instead of the app's bytes; false when it cannot. */
    synchronized boolean replace(byte[] body) {
        if (released || !holdClose || !(target instanceof ByteArrayOutputStream buffer)) {
            return false;
        }
        buffer.reset();
        buffer.write(body, 0, body.length);
        return true;
    }

    /** The call is decided: from now on the stream is the connection's own, closed if the app closed it. */
    synchronized void release() throws IOException {
        if (!released) {
            released = true;
            if (closedByApp) {
                target.close();
            }
        }
    }
}
