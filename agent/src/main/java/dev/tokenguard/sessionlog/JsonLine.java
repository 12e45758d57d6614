package dev.tokenguard.sessionlog;

import java.util.Arrays;

/**
 * Writes one JSON value as UTF-8 into a byte array that is kept from line to line: the few generator calls the
 * session log's lines need, with the bytes jackson-core's generator writes for them (its default escapes, surrogate
 * pairs combined into one four-byte character, a lone surrogate escaped as {@code \}{@code uXXXX}, doubles as
 * {@link Double#toString}). The session log writes a line on a JVM's first governed call; a generator of its own
 * spares the start-up the loading and set-up of jackson-core's factory, generators and buffer recyclers.
 *
 * <p>The caller writes well-formed JSON (a field name before each member's value, every object and array closed);
 * nothing here checks it. One thread uses an instance at a time.
 */
final class JsonLine {
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** Per ASCII character: 0 written as is, -1 written as a six-character escape, else the short escape's letter. */
    private static final byte[] ESCAPES = new byte[128];

    static {
        for (int c = 0; c < 0x20; c++) {
            ESCAPES[c] = -1;
        }
        ESCAPES['"'] = '"';
        ESCAPES['\\'] = '\\';
        ESCAPES['\b'] = 'b';
        ESCAPES['\t'] = 't';
        ESCAPES['\f'] = 'f';
        ESCAPES['\n'] = 'n';
        ESCAPES['\r'] = 'r';
    }

    private byte[] bytes;
    private int size;
    /** Nesting depth: 0 outside any value. At most 63 (a line nests two or three deep). */
    private int depth;
    /** Bit {@code d}: a member or element is already written at depth {@code d} (the next needs a comma). */
    private long written;
    /** A field name was just written: its value follows without a comma. */
    private boolean afterName;

    private final char[] scratch = new char[32];

    JsonLine(int capacity) {
        bytes = new byte[capacity];
    }

    /** Starts again at {@code from} in the array (what is before it is kept as it is). */
    void reset(int from) {
        size = from;
        depth = 0;
        written = 0;
        afterName = false;
    }

    /** Room for a number the caller formats itself before {@link #writeNumber(char[], int, int)}. */
    char[] scratch() {
        return scratch;
    }

    byte[] bytes() {
        return bytes;
    }

    int size() {
        return size;
    }

    /** Replaces the array with an empty one of {@code capacity} bytes and starts at {@code from}. */
    void replaceArray(int capacity, int from) {
        bytes = new byte[capacity];
        reset(from);
    }

    void writeStartObject() {
        beforeValue();
        put((byte) '{');
        open();
    }

    void writeEndObject() {
        depth--;
        put((byte) '}');
    }

    void writeArrayFieldStart(String name) {
        writeFieldName(name);
        beforeValue();
        put((byte) '[');
        open();
    }

    void writeEndArray() {
        depth--;
        put((byte) ']');
    }

    void writeFieldName(String name) {
        long bit = 1L << depth;
        if ((written & bit) != 0) {
            put((byte) ',');
        }
        written |= bit;
        quoted(name);
        put((byte) ':');
        afterName = true;
    }

    void writeStringField(String name, String value) {
        writeFieldName(name);
        writeString(value);
    }

    void writeNumberField(String name, long value) {
        writeFieldName(name);
        writeNumber(value);
    }

    void writeNumberField(String name, double value) {
        writeFieldName(name);
        beforeValue();
        ascii(Double.toString(value));
    }

    void writeBooleanField(String name, boolean value) {
        writeFieldName(name);
        beforeValue();
        ascii(value ? "true" : "false");
    }

    void writeNullField(String name) {
        writeFieldName(name);
        writeNull();
    }

    void writeNull() {
        beforeValue();
        ascii("null");
    }

    /** A string value; null writes {@code null}. */
    void writeString(String value) {
        if (value == null) {
            writeNull();
            return;
        }
        beforeValue();
        quoted(value);
    }

    void writeString(char[] text, int offset, int length) {
        beforeValue();
        put((byte) '"');
        chars(text, offset, length);
        put((byte) '"');
    }

    void writeNumber(long value) {
        beforeValue();
        if (value == Long.MIN_VALUE) {
            ascii(Long.toString(value));
            return;
        }
        ensure(20);
        if (value < 0) {
            bytes[size++] = '-';
            value = -value;
        }
        int len = 1;
        for (long rest = value / 10; rest != 0; rest /= 10) {
            len++;
        }
        for (int i = size + len - 1; i >= size; i--) {
            bytes[i] = (byte) ('0' + value % 10);
            value /= 10;
        }
        size += len;
    }

    /** A number already written as text (plain digits, sign and point): written as it is. */
    void writeNumber(String text) {
        beforeValue();
        ascii(text);
    }

    /** As {@link #writeNumber(String)}, from {@code text[offset, offset + length)}. */
    void writeNumber(char[] text, int offset, int length) {
        beforeValue();
        ensure(length);
        for (int i = 0; i < length; i++) {
            bytes[size++] = (byte) text[offset + i];
        }
    }

    /** One raw byte after the value (the line's newline). */
    void writeRaw(byte b) {
        put(b);
    }

    private void open() {
        depth++;
        written &= ~(1L << depth);
    }

    private void beforeValue() {
        if (afterName) {
            afterName = false;
            return;
        }
        if (depth > 0) {
            long bit = 1L << depth;
            if ((written & bit) != 0) {
                put((byte) ',');
            }
            written |= bit;
        }
    }

    private void quoted(String s) {
        put((byte) '"');
        int n = s.length();
        // ASCII without escapes, the common case, one char per byte
        ensure(n + 1);
        int i = 0;
        while (i < n) {
            char c = s.charAt(i);
            if (c >= 0x80 || ESCAPES[c] != 0) {
                break;
            }
            bytes[size++] = (byte) c;
            i++;
        }
        for (; i < n; i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                codePoint(Character.toCodePoint(c, s.charAt(i + 1)));
                i++;
            } else {
                one(c);
            }
        }
        put((byte) '"');
    }

    private void chars(char[] text, int offset, int length) {
        int end = offset + length;
        for (int i = offset; i < end; i++) {
            char c = text[i];
            if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(text[i + 1])) {
                codePoint(Character.toCodePoint(c, text[i + 1]));
                i++;
            } else {
                one(c);
            }
        }
    }

    /** One char that is not the first of a surrogate pair. */
    private void one(char c) {
        ensure(6);
        if (c < 0x80) {
            byte escape = ESCAPES[c];
            if (escape == 0) {
                bytes[size++] = (byte) c;
            } else if (escape > 0) {
                bytes[size++] = '\\';
                bytes[size++] = escape;
            } else {
                unicodeEscape(c);
            }
        } else if (c < 0x800) {
            bytes[size++] = (byte) (0xC0 | (c >> 6));
            bytes[size++] = (byte) (0x80 | (c & 0x3F));
        } else if (Character.isSurrogate(c)) {
            unicodeEscape(c); // a lone surrogate is no character: kept as its escape
        } else {
            bytes[size++] = (byte) (0xE0 | (c >> 12));
            bytes[size++] = (byte) (0x80 | ((c >> 6) & 0x3F));
            bytes[size++] = (byte) (0x80 | (c & 0x3F));
        }
    }

    private void unicodeEscape(char c) {
        bytes[size++] = '\\';
        bytes[size++] = 'u';
        bytes[size++] = HEX[(c >> 12) & 0xF];
        bytes[size++] = HEX[(c >> 8) & 0xF];
        bytes[size++] = HEX[(c >> 4) & 0xF];
        bytes[size++] = HEX[c & 0xF];
    }

    private void codePoint(int cp) {
        ensure(4);
        bytes[size++] = (byte) (0xF0 | (cp >> 18));
        bytes[size++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
        bytes[size++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
        bytes[size++] = (byte) (0x80 | (cp & 0x3F));
    }

    private void ascii(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            bytes[size++] = (byte) s.charAt(i);
        }
    }

    private void put(byte b) {
        ensure(1);
        bytes[size++] = b;
    }

    private void ensure(int more) {
        if (size + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(size + more, bytes.length * 2));
        }
    }
}
