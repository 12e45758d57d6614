package dev.tokenguard.instrumentation.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Asks an OpenAI chat stream for its usage: OpenAI reports a stream's token usage only when the request has
 * {@code "stream_options": {"include_usage": true}}, in one extra chunk before {@code [DONE]}. The body is edited
 * in place, byte for byte: every other byte stays where it was, so every other field keeps its meaning (order,
 * duplicates, number spellings and escapes untouched). The extra chunk the answer then carries is hidden from the
 * app by {@link UsageChunkFilter}.
 */
public final class StreamUsageRequest {
    private static final byte[] FIELD = ",\"stream_options\":{\"include_usage\":true}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] OPTION = "\"include_usage\":true".getBytes(StandardCharsets.UTF_8);
    private static final byte[] OPTIONS = "{\"include_usage\":true}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] TRUE = "true".getBytes(StandardCharsets.UTF_8);

    private StreamUsageRequest() {
    }

    /**
     * The body with {@code stream_options.include_usage} set to true, or null when it should be sent unchanged
     * (and no chunk hidden): it already asks for usage, or it is not a JSON object whose {@code stream_options} is
     * an object or null.
     */
    public static byte[] withIncludeUsage(byte[] body) {
        if (body == null) {
            return null;
        }
        try (JsonParser p = JsonWalker.FACTORY.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            boolean rootHasFields = false;
            long optionsStart = -1;
            boolean optionsHasFields = false;
            long valueStart = -1;
            int valueLength = 0;
            boolean optionsNull = false;
            boolean seenOptions = false;
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                rootHasFields = true;
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (!name.equals("stream_options")) {
                    p.skipChildren();
                    continue;
                }
                if (seenOptions) {
                    return null; // two stream_options: which one a server honours is its own affair
                }
                seenOptions = true;
                if (v == JsonToken.VALUE_NULL) {
                    optionsNull = true;
                    valueStart = p.currentTokenLocation().getByteOffset();
                    valueLength = 4;
                    continue;
                }
                if (v != JsonToken.START_OBJECT) {
                    return null;
                }
                optionsStart = p.currentTokenLocation().getByteOffset();
                JsonToken f;
                while ((f = p.nextToken()) == JsonToken.FIELD_NAME) {
                    optionsHasFields = true;
                    String option = p.currentName();
                    JsonToken ov = p.nextToken();
                    if (option.equals("include_usage")) {
                        if (ov == JsonToken.VALUE_TRUE || valueStart >= 0) {
                            return null;
                        }
                        if (ov != JsonToken.VALUE_FALSE && ov != JsonToken.VALUE_NULL) {
                            return null;
                        }
                        valueStart = p.currentTokenLocation().getByteOffset();
                        valueLength = ov == JsonToken.VALUE_FALSE ? 5 : 4;
                    } else {
                        p.skipChildren();
                    }
                }
                if (f != JsonToken.END_OBJECT) {
                    return null;
                }
            }
            if (t != JsonToken.END_OBJECT) {
                return null;
            }
            long rootEnd = p.currentTokenLocation().getByteOffset();
            if (valueStart >= 0) {
                return replace(body, (int) valueStart, valueLength, optionsNull ? OPTIONS : TRUE);
            }
            if (optionsStart >= 0) {
                byte[] insert = optionsHasFields ? concat(OPTION, new byte[] {','}) : OPTION;
                return replace(body, (int) optionsStart + 1, 0, insert);
            }
            byte[] insert = rootHasFields ? FIELD : java.util.Arrays.copyOfRange(FIELD, 1, FIELD.length);
            return replace(body, (int) rootEnd, 0, insert);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static byte[] replace(byte[] body, int at, int length, byte[] with) {
        byte[] out = new byte[body.length - length + with.length];
        System.arraycopy(body, 0, out, 0, at);
        System.arraycopy(with, 0, out, at, with.length);
        System.arraycopy(body, at + length, out, at + with.length, body.length - at - length);
        return out;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
