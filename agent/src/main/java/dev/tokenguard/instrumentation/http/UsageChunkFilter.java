package dev.tokenguard.instrumentation.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * Hides, from an OpenAI chat completion event stream, the usage-only chunk that the agent's
 * {@code stream_options.include_usage} made the server add (empty {@code choices}, a {@code usage} object), so
 * that the app reads the events it would have read without the agent, byte for byte: with {@code include_usage}
 * every other chunk carries {@code "usage":null} too, and that member is taken out of them. Each event is held until the
 * blank line that ends it and then passed on whole (or dropped); an event longer than {@value #MAX_EVENT} bytes is
 * passed on as it comes and never dropped. Use it only when the agent added {@code include_usage}: when the app
 * asked for usage itself, the chunk is the app's. Asking adds one chunk, so only the first usage-only chunk is
 * hidden: a further one is the server's own (a gateway that appends its usage whether asked or not) and the app
 * sees it, as it would without the agent.
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
    private boolean finishSeen;

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
        if (hidden == 0) {
            byte[] data = dataOf(raw);
            // the chunk the ask added: usage-only, or (its usage left out or null) without choices after the last
            // finish reason; an Azure OpenAI stream's first chunk has no choices too, but comes before any
            if (isUsageOnlyChunk(data) || (finishSeen && hasNoChoices(data))) {
                droppedLast = true;
                hidden++;
                return;
            }
            finishSeen = finishSeen || hasFinishReason(data);
        }
        byte[] passed = withoutNullUsage(raw);
        out.write(passed, 0, passed.length);
    }

    /**
     * A one-line {@code data:} event whose JSON object has a top-level {@code "usage": null} member, without that
     * member (and its separating comma); any other event as it is.
     */
    static byte[] withoutNullUsage(byte[] raw) {
        int start = -1;
        int end = -1;
        int i = 0;
        while (i < raw.length) {
            int lineEnd = i;
            while (lineEnd < raw.length && raw[lineEnd] != '\r' && raw[lineEnd] != '\n') {
                lineEnd++;
            }
            if (lineEnd - i >= 5 && raw[i] == 'd' && raw[i + 1] == 'a' && raw[i + 2] == 't' && raw[i + 3] == 'a'
                    && raw[i + 4] == ':') {
                if (start >= 0) {
                    return raw;
                }
                start = i + 5 < lineEnd && raw[i + 5] == ' ' ? i + 6 : i + 5;
                end = lineEnd;
            }
            i = lineEnd + 1;
        }
        if (start < 0 || start >= end || raw[start] != '{') {
            return raw;
        }
        int nameAt = -1;
        try (JsonParser p = JsonWalker.FACTORY.createParser(java.util.Arrays.copyOfRange(raw, start, end))) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return raw;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                long at = p.currentTokenLocation().getByteOffset();
                JsonToken v = p.nextToken();
                if (name.equals("usage") && v == JsonToken.VALUE_NULL && nameAt < 0) {
                    nameAt = (int) at;
                }
                p.skipChildren();
            }
        } catch (IOException | RuntimeException e) {
            return raw;
        }
        int name = nameAt < 0 ? -1 : start + nameAt;
        if (name < start || name >= end || raw[name] != '"') {
            return raw;
        }
        int after = name + "\"usage\"".length();
        while (after < end && isSpace(raw[after])) {
            after++;
        }
        if (after >= end || raw[after] != ':') {
            return raw;
        }
        after++;
        while (after < end && isSpace(raw[after])) {
            after++;
        }
        if (after + 4 > end || raw[after] != 'n') {
            return raw;
        }
        after += 4;
        int from = name - 1;
        while (from > start && isSpace(raw[from])) {
            from--;
        }
        int cutFrom;
        int cutTo;
        if (raw[from] == ',') {
            cutFrom = from;
            cutTo = after;
        } else {
            cutFrom = name;
            cutTo = after;
            while (cutTo < end && isSpace(raw[cutTo])) {
                cutTo++;
            }
            if (cutTo < end && raw[cutTo] == ',') {
                cutTo++;
                while (cutTo < end && isSpace(raw[cutTo])) {
                    cutTo++;
                }
            }
        }
        byte[] out = new byte[raw.length - (cutTo - cutFrom)];
        System.arraycopy(raw, 0, out, 0, cutFrom);
        System.arraycopy(raw, cutTo, out, cutFrom, raw.length - cutTo);
        return out;
    }

    private static boolean isSpace(byte c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
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

    /** Whether an event's data is a JSON object whose {@code choices} is an empty array. */
    static boolean hasNoChoices(byte[] data) {
        if (data.length == 0 || data[0] != '{') {
            return false;
        }
        try (JsonParser p = JsonWalker.FACTORY.createParser(data)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            boolean emptyChoices = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (name.equals("choices")) {
                    emptyChoices = v == JsonToken.START_ARRAY && p.nextToken() == JsonToken.END_ARRAY;
                    if (!emptyChoices) {
                        p.skipChildren();
                    }
                } else {
                    p.skipChildren();
                }
            }
            return emptyChoices;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Whether an event's data is a chat completion chunk one of whose choices has a {@code finish_reason}. */
    static boolean hasFinishReason(byte[] data) {
        if (data.length == 0 || data[0] != '{') {
            return false;
        }
        try (JsonParser p = JsonWalker.FACTORY.createParser(data)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (!name.equals("choices") || v != JsonToken.START_ARRAY) {
                    p.skipChildren();
                    continue;
                }
                while (p.nextToken() == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String field = p.currentName();
                        JsonToken fv = p.nextToken();
                        if (field.equals("finish_reason") && fv == JsonToken.VALUE_STRING) {
                            return true;
                        }
                        p.skipChildren();
                    }
                }
            }
            return false;
        } catch (IOException | RuntimeException e) {
            return false;
        }
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
