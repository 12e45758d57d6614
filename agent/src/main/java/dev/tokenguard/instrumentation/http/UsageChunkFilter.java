package dev.tokenguard.instrumentation.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * Hides, from an OpenAI chat completion event stream, the usage-only chunk that the agent's
 * {@code stream_options.include_usage} made the server add (empty {@code choices}, a {@code usage} object), so
 * that the app reads the events it would have read without the agent, byte for byte. Each event is held until the
 * blank line that ends it and then passed on whole (or dropped); an event longer than {@value #MAX_EVENT} bytes is
 * passed on as it comes and never dropped. Use it only when the agent added {@code include_usage}: when the app
 * asked for usage itself, the chunk is the app's.
 */
public final class UsageChunkFilter {
    static final int MAX_EVENT = 1024 * 1024;
    private static final byte[] EMPTY = new byte[0];

    private final ByteArrayOutputStream event = new ByteArrayOutputStream(512);
    private boolean passingThrough;
    private int lineLength;
    private boolean skipLf;
    private boolean lfAfterDispatch;
    private boolean droppedLast;
    private int hidden;

    /** The bytes the app may read now, out of the next piece of the stream (possibly none). */
    public byte[] filter(byte[] b, int off, int len) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(len + event.size());
        for (int i = off; i < off + len; i++) {
            byte c = b[i];
            if (skipLf) {
                skipLf = false;
                if (c == '\n') {
                    if (lfAfterDispatch) {
                        lfAfterDispatch = false;
                        if (!droppedLast) {
                            out.write(c);
                        }
                    } else {
                        hold(c, out);
                    }
                    continue;
                }
            }
            lfAfterDispatch = false;
            hold(c, out);
            if (c == '\r' || c == '\n') {
                boolean blank = lineLength == 0;
                lineLength = 0;
                skipLf = c == '\r';
                if (blank) {
                    dispatch(out);
                    lfAfterDispatch = skipLf;
                }
            } else {
                lineLength++;
            }
        }
        return out.size() == 0 ? EMPTY : out.toByteArray();
    }

    /** The stream ended: whatever is still held (an event no blank line closed) is the app's. */
    public byte[] finish() {
        byte[] rest = event.toByteArray();
        event.reset();
        return rest;
    }

    /** How many usage-only chunks were hidden. */
    public int hiddenChunks() {
        return hidden;
    }

    private void hold(byte c, ByteArrayOutputStream out) {
        if (passingThrough) {
            out.write(c);
            return;
        }
        event.write(c);
        if (event.size() > MAX_EVENT) {
            out.write(event.toByteArray(), 0, event.size());
            event.reset();
            passingThrough = true;
        }
    }

    private void dispatch(ByteArrayOutputStream out) {
        droppedLast = false;
        if (passingThrough) {
            passingThrough = false;
            return;
        }
        byte[] raw = event.toByteArray();
        event.reset();
        if (isUsageOnlyChunk(dataOf(raw))) {
            droppedLast = true;
            hidden++;
            return;
        }
        raw = withoutNullUsage(raw);
        out.write(raw, 0, raw.length);
    }

    /**
     * The event without the {@code "usage":null} member that {@code include_usage} adds to every chunk
     * before the usage-only one; an event of several data lines, or without that member, is returned as it is.
     */
    static byte[] withoutNullUsage(byte[] raw) {
        int dataStart = -1;
        int dataEnd = -1;
        int i = 0;
        while (i < raw.length) {
            int end = i;
            while (end < raw.length && raw[end] != '\r' && raw[end] != '\n') {
                end++;
            }
            if (end - i >= 5 && raw[i] == 'd' && raw[i + 1] == 'a' && raw[i + 2] == 't' && raw[i + 3] == 'a'
                    && raw[i + 4] == ':') {
                if (dataStart >= 0) {
                    return raw;
                }
                dataStart = i + 5 < end && raw[i + 5] == ' ' ? i + 6 : i + 5;
                dataEnd = end;
            }
            i = end + 1;
        }
        int[] member = dataStart < 0 ? null : nullUsageMember(java.util.Arrays.copyOfRange(raw, dataStart, dataEnd));
        if (member == null) {
            return raw;
        }
        int from = dataStart + member[0];
        int to = dataStart + member[1];
        byte[] out = new byte[raw.length - (to - from)];
        System.arraycopy(raw, 0, out, 0, from);
        System.arraycopy(raw, to, out, from, raw.length - to);
        return out;
    }

    /** The bytes {@code [from, to)} of a top-level {@code "usage":null} member of {@code data}, with its comma, or null. */
    private static int[] nullUsageMember(byte[] data) {
        int off = 0;
        int len = data.length;
        byte[] raw = data;
        if (len == 0 || raw[off] != '{') {
            return null;
        }
        try (JsonParser p = JsonWalker.FACTORY.createParser(data)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                int nameAt = off + (int) p.currentTokenLocation().getByteOffset();
                JsonToken v = p.nextToken();
                if (name.equals("usage") && v == JsonToken.VALUE_NULL) {
                    int valueEnd = off + (int) p.currentTokenLocation().getByteOffset() + 4;
                    int before = nameAt - 1;
                    while (before > off && (raw[before] == ' ' || raw[before] == '\t')) {
                        before--;
                    }
                    if (raw[before] == ',') {
                        while (before > off + 1 && (raw[before - 1] == ' ' || raw[before - 1] == '\t')) {
                            before--;
                        }
                        return new int[] {before, valueEnd};
                    }
                    int after = valueEnd;
                    while (after < off + len && (raw[after] == ' ' || raw[after] == '\t')) {
                        after++;
                    }
                    if (after >= off + len || raw[after] != ',') {
                        return null;
                    }
                    after++;
                    while (after < off + len && (raw[after] == ' ' || raw[after] == '\t')) {
                        after++;
                    }
                    return new int[] {nameAt, after};
                }
                p.skipChildren();
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The data of one raw event: its data lines' values joined by line feeds. */
    static byte[] dataOf(byte[] raw) {
        ByteArrayOutputStream data = new ByteArrayOutputStream(raw.length);
        int lines = 0;
        int i = 0;
        while (i < raw.length) {
            int end = i;
            while (end < raw.length && raw[end] != '\r' && raw[end] != '\n') {
                end++;
            }
            if (end - i >= 5 && raw[i] == 'd' && raw[i + 1] == 'a' && raw[i + 2] == 't' && raw[i + 3] == 'a'
                    && raw[i + 4] == ':') {
                int v = i + 5;
                if (v < end && raw[v] == ' ') {
                    v++;
                }
                if (lines++ > 0) {
                    data.write('\n');
                }
                data.write(raw, v, end - v);
            }
            i = end < raw.length && raw[end] == '\r' && end + 1 < raw.length && raw[end + 1] == '\n' ? end + 2 : end + 1;
        }
        return data.toByteArray();
    }

    /**
     * Whether an event's data is a chat completion chunk that carries only usage: {@code choices} present and
     * empty, and {@code usage} an object.
     */
    public static boolean isUsageOnlyChunk(byte[] data) {
        if (data.length == 0 || data[0] != '{') {
            return false;
        }
        try (JsonParser p = JsonWalker.FACTORY.createParser(data)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            boolean emptyChoices = false;
            boolean usage = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (name.equals("choices")) {
                    emptyChoices = v == JsonToken.START_ARRAY && p.nextToken() == JsonToken.END_ARRAY;
                    if (!emptyChoices) {
                        p.skipChildren();
                    }
                } else {
                    if (name.equals("usage")) {
                        usage = v == JsonToken.START_OBJECT;
                    }
                    p.skipChildren();
                }
            }
            return emptyChoices && usage;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
