package dev.tokenguard.otel;

/**
 * Whether bytes are well-formed protobuf wire format (every field a valid tag with a complete value), which
 * every OTLP export response is. A structural check, not a decode: an HTML page or a plain-text answer fails
 * it at its first byte or soon after; an empty body (a response with every field at its default) passes.
 */
final class ProtobufShape {
    private ProtobufShape() {
    }

    static boolean isWellFormed(byte[] bytes) {
        return bytes == null || fields(bytes, 0, bytes.length);
    }

    private static boolean fields(byte[] b, int from, int to) {
        int i = from;
        while (i < to) {
            long[] tag = varint(b, i, to);
            if (tag == null) {
                return false;
            }
            i = (int) tag[1];
            long key = tag[0];
            if ((key >>> 3) == 0) {
                return false;
            }
            switch ((int) (key & 7)) {
                case 0 -> {
                    long[] value = varint(b, i, to);
                    if (value == null) {
                        return false;
                    }
                    i = (int) value[1];
                }
                case 1 -> i += 8;
                case 5 -> i += 4;
                case 2 -> {
                    long[] length = varint(b, i, to);
                    if (length == null || length[0] < 0 || length[0] > to - length[1]) {
                        return false;
                    }
                    i = (int) (length[1] + length[0]);
                }
                default -> {
                    return false; // groups are not used by OTLP; 6 and 7 do not exist
                }
            }
            if (i > to) {
                return false;
            }
        }
        return true;
    }

    /** {value, index after it}, or null when the varint runs past {@code to} or is longer than ten bytes. */
    private static long[] varint(byte[] b, int from, int to) {
        long value = 0;
        for (int i = from, shift = 0; i < to && shift < 70; i++, shift += 7) {
            value |= (long) (b[i] & 0x7f) << shift;
            if ((b[i] & 0x80) == 0) {
                return new long[] {value, i + 1};
            }
        }
        return null;
    }
}
