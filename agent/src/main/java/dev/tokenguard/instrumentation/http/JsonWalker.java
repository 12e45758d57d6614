package dev.tokenguard.instrumentation.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Walks JSON fed in pieces of any size (Jackson's non-blocking parser), telling a listener each value with its
 * path ({@code usage.prompt_tokens}, {@code choices[].finish_reason}), so a response is read while it passes
 * through and never held whole. A sequence of root values (NDJSON) is walked value by value; with
 * {@code splitRootArray} so are the elements of a root array (Gemini's JSON stream), each as its own message.
 * Only field names build strings: the numbers of an embedding cost no allocation of ours.
 */
final class JsonWalker {
    static final JsonFactory FACTORY = new JsonFactory();

    interface Listener {
        /** A message (a root object, or an element of a split root array) starts. */
        void messageStart();

        /**
         * A value at {@code path}: a scalar, or the start or end of an object or array (whose path is its own).
         * The parser is positioned on the token, for reading its value.
         */
        void token(String path, JsonToken token, JsonParser parser) throws IOException;

        /** The message that started last is complete. */
        void messageEnd();
    }

    private static final class Frame {
        final String path;
        final String elementPath;
        final boolean array;
        String fieldPath;

        Frame(String path, String elementPath, boolean array) {
            this.path = path;
            this.elementPath = elementPath;
            this.array = array;
        }
    }

    private final Listener listener;
    private final boolean splitRootArray;
    private final JsonParser parser;
    private final ByteArrayFeeder feeder;
    private final List<Frame> stack = new ArrayList<>();
    private int messageDepth;
    private boolean failed;
    private boolean sawValue;

    JsonWalker(Listener listener, boolean splitRootArray) {
        this.listener = listener;
        this.splitRootArray = splitRootArray;
        JsonParser p;
        try {
            p = FACTORY.createNonBlockingByteArrayParser();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        this.parser = p;
        this.feeder = (ByteArrayFeeder) p.getNonBlockingInputFeeder();
    }

    /** Whether the input was not JSON (from the byte where it stopped being JSON, nothing more is reported). */
    boolean failed() {
        return failed;
    }

    /** Whether a complete root value (or root array element) was read. */
    boolean sawValue() {
        return sawValue;
    }

    /** Whether the walker is inside a value (a message or a root array) that has not ended. */
    boolean inValue() {
        return !stack.isEmpty();
    }

    void feed(byte[] b, int off, int len) {
        if (failed || len <= 0) {
            return;
        }
        try {
            feeder.feedInput(b, off, off + len);
            drain();
        } catch (IOException | RuntimeException e) {
            failed = true;
        }
    }

    void end() {
        if (failed) {
            return;
        }
        try {
            feeder.endOfInput();
            drain();
        } catch (IOException | RuntimeException e) {
            failed = true;
        }
        try {
            parser.close();
        } catch (IOException ignored) {
            // nothing held open: the input was given as arrays
        }
    }

    private void drain() throws IOException {
        JsonToken t;
        while ((t = parser.nextToken()) != null && t != JsonToken.NOT_AVAILABLE) {
            handle(t);
        }
    }

    private void handle(JsonToken t) throws IOException {
        Frame top = stack.isEmpty() ? null : stack.get(stack.size() - 1);
        switch (t) {
            case FIELD_NAME -> {
                String name = parser.currentName();
                top.fieldPath = top.path.isEmpty() ? name : top.path + "." + name;
            }
            case START_OBJECT, START_ARRAY -> {
                boolean array = t == JsonToken.START_ARRAY;
                if (top == null && array && splitRootArray) {
                    stack.add(new Frame("", "", true));
                    return;
                }
                String path = valuePath(top);
                if (startsMessage()) {
                    messageDepth = stack.size();
                    listener.messageStart();
                }
                listener.token(path, t, parser);
                stack.add(new Frame(path, array ? path + "[]" : null, array));
            }
            case END_OBJECT, END_ARRAY -> {
                Frame closed = stack.remove(stack.size() - 1);
                if (stack.isEmpty() && splitRootArray && closed.array && closed.path.isEmpty()
                        && closed.elementPath != null && closed.elementPath.isEmpty()) {
                    return;
                }
                listener.token(closed.path, t, parser);
                if (stack.size() == messageDepth) {
                    sawValue = true;
                    listener.messageEnd();
                }
            }
            default -> {
                if (startsMessage()) {
                    // a scalar where a message belongs: not one of ours
                    sawValue = true;
                    return;
                }
                listener.token(valuePath(top), t, parser);
            }
        }
    }

    /** Whether the value that starts now is a whole message. */
    private boolean startsMessage() {
        return stack.isEmpty() || (stack.size() == 1 && splitRootArray && stack.get(0).path.isEmpty()
                && stack.get(0).array && "".equals(stack.get(0).elementPath));
    }

    private static String valuePath(Frame top) {
        if (top == null) {
            return "";
        }
        return top.array ? top.elementPath : top.fieldPath;
    }
}
