package dev.tokenguard.sample.stub;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The binary framing of AWS event streams ({@code application/vnd.amazon.eventstream}), as Bedrock Runtime's
 * {@code converse-stream} and {@code invoke-with-response-stream} answers carry their events.
 *
 * <p>One message is: total length (4 bytes, big-endian, the whole message), headers length (4 bytes), the CRC32
 * of those 8 bytes (the prelude CRC), the headers, the payload, and the CRC32 of everything before it (the
 * message CRC). A header is its name's length (1 byte), the name (UTF-8), a value type (1 byte; 7 is a string)
 * and, for a string, its length (2 bytes) and the UTF-8 value. The AWS SDK checks both CRCs and every length.
 */
public final class AwsEventStream {
    /** The prelude: total length, headers length, prelude CRC. */
    static final int PRELUDE = 12;
    private static final byte STRING = 7;

    private AwsEventStream() {
    }

    /** One decoded message: its string headers, in order, and its payload. */
    public record Message(Map<String, String> headers, byte[] payload) {
        public String payloadText() {
            return new String(payload, StandardCharsets.UTF_8);
        }
    }

    /** An {@code event} message of this type carrying a JSON payload, as Bedrock sends them. */
    public static byte[] event(String eventType, byte[] jsonPayload) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(":event-type", eventType);
        headers.put(":content-type", "application/json");
        headers.put(":message-type", "event");
        return encode(headers, jsonPayload);
    }

    /** An {@code exception} message of this type, as Bedrock ends a stream that fails after it began. */
    public static byte[] exception(String exceptionType, byte[] jsonPayload) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(":exception-type", exceptionType);
        headers.put(":content-type", "application/json");
        headers.put(":message-type", "exception");
        return encode(headers, jsonPayload);
    }

    /** One message with these string headers and this payload. */
    public static byte[] encode(Map<String, String> headers, byte[] payload) {
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        for (Map.Entry<String, String> header : headers.entrySet()) {
            byte[] name = header.getKey().getBytes(StandardCharsets.UTF_8);
            byte[] value = header.getValue().getBytes(StandardCharsets.UTF_8);
            if (name.length > 255 || value.length > 65_535) {
                throw new IllegalArgumentException("header " + header.getKey() + " is too long for an event stream");
            }
            h.write(name.length);
            h.writeBytes(name);
            h.write(STRING);
            h.write(value.length >>> 8);
            h.write(value.length & 0xff);
            h.writeBytes(value);
        }
        byte[] headerBytes = h.toByteArray();
        int total = PRELUDE + headerBytes.length + payload.length + 4;
        ByteBuffer message = ByteBuffer.allocate(total);
        message.putInt(total).putInt(headerBytes.length);
        message.putInt((int) crc(message.array(), 0, 8));
        message.put(headerBytes).put(payload);
        message.putInt((int) crc(message.array(), 0, total - 4));
        return message.array();
    }

    /**
     * Every message in {@code bytes}, checking each length and both CRCs.
     *
     * @throws IllegalArgumentException when the framing is broken
     */
    public static List<Message> decodeAll(byte[] bytes) {
        List<Message> messages = new ArrayList<>();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        while (in.hasRemaining()) {
            int start = in.position();
            if (in.remaining() < PRELUDE + 4) {
                throw new IllegalArgumentException("a truncated message at byte " + start);
            }
            int total = in.getInt();
            int headersLength = in.getInt();
            long preludeCrc = in.getInt() & 0xffffffffL;
            if (preludeCrc != crc(bytes, start, 8)) {
                throw new IllegalArgumentException("prelude CRC mismatch at byte " + start);
            }
            if (total < PRELUDE + 4 + headersLength || start + total > bytes.length) {
                throw new IllegalArgumentException("a message length of " + total + " at byte " + start
                        + " does not fit");
            }
            Map<String, String> headers = new LinkedHashMap<>();
            int headersEnd = in.position() + headersLength;
            while (in.position() < headersEnd) {
                byte[] name = new byte[in.get() & 0xff];
                in.get(name);
                byte type = in.get();
                if (type != STRING) {
                    throw new IllegalArgumentException("header value type " + type + " is not a string");
                }
                byte[] value = new byte[in.getShort() & 0xffff];
                in.get(value);
                headers.put(new String(name, StandardCharsets.UTF_8), new String(value, StandardCharsets.UTF_8));
            }
            byte[] payload = new byte[total - PRELUDE - headersLength - 4];
            in.get(payload);
            long messageCrc = in.getInt() & 0xffffffffL;
            if (messageCrc != crc(bytes, start, total - 4)) {
                throw new IllegalArgumentException("message CRC mismatch at byte " + start);
            }
            messages.add(new Message(headers, payload));
        }
        return messages;
    }

    static long crc(byte[] bytes, int offset, int length) {
        CRC32 crc = new CRC32();
        crc.update(bytes, offset, length);
        return crc.getValue();
    }
}
