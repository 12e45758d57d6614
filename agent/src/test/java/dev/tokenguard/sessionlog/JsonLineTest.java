package dev.tokenguard.sessionlog;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link JsonLine} writes the bytes jackson-core's UTF-8 generator (as the session log used to configure it: surrogate
 * pairs combined, no separator between root values) writes for the same calls.
 */
class JsonLineTest {
    private static final JsonFactory JACKSON = JsonFactory.builder()
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8).build();

    /** The same calls against both writers. */
    private interface Line {
        void writeTo(JsonLine mine, JsonGenerator theirs) throws IOException;
    }

    private static void assertSameBytes(Line line) throws IOException {
        JsonLine mine = new JsonLine(8); // small: the array grows while writing
        mine.reset(1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator theirs = JACKSON.createGenerator(out)) {
            theirs.setRootValueSeparator(null);
            line.writeTo(mine, theirs);
        }
        byte[] written = Arrays.copyOfRange(mine.bytes(), 1, mine.size());
        assertArrayEquals(out.toByteArray(), written, () -> "jackson: " + out + "\nmine:    "
                + new String(written, java.nio.charset.StandardCharsets.UTF_8));
    }

    private static void string(String s) throws IOException {
        assertSameBytes((mine, theirs) -> {
            mine.writeStartObject();
            theirs.writeStartObject();
            mine.writeStringField("k", s);
            theirs.writeStringField("k", s);
            char[] chars = s.toCharArray();
            mine.writeFieldName("c");
            theirs.writeFieldName("c");
            mine.writeString(chars, 0, chars.length);
            theirs.writeString(chars, 0, chars.length);
            mine.writeEndObject();
            theirs.writeEndObject();
        });
    }

    @Test
    void everyAsciiCharacterIsWrittenOrEscapedAsJacksonDoes() throws IOException {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0x80; c++) {
            all.append(c);
            string(String.valueOf(c));
        }
        string(all.toString());
    }

    @Test
    void multiByteCharactersPairsAndLoneSurrogates() throws IOException {
        for (String s : List.of("é", "naïve café", "中文", "\u0800\u07FF\uFFFF\uE000", "\u2028\u2029",
                "😀", "a😀b😀", "lone high \uD83D end", "lone low \uDE00", "\uD83D", "\uDE00\uD83D",
                "pair then lone \uD83D\uDE00\uD83D", "\uDBFF\uDFFF")) {
            string(s);
        }
    }

    @Test
    void randomTextOfEveryKindOfChar() throws IOException {
        Random random = new Random(20261202L);
        for (int n = 0; n < 2_000; n++) {
            StringBuilder s = new StringBuilder();
            int length = random.nextInt(40);
            for (int i = 0; i < length; i++) {
                switch (random.nextInt(5)) {
                    case 0 -> s.append((char) random.nextInt(0x80));
                    case 1 -> s.append((char) (0x80 + random.nextInt(0x780)));
                    case 2 -> s.append((char) random.nextInt(0x10000)); // surrogates included, paired or not
                    case 3 -> s.appendCodePoint(0x10000 + random.nextInt(0x100000));
                    default -> s.append("plain text ");
                }
            }
            string(s.toString());
        }
    }

    @Test
    void numbersBooleansNullsAndNesting() throws IOException {
        List<Long> longs = new ArrayList<>(List.of(0L, 1L, -1L, 9L, 10L, -10L, 1234567890123L, Long.MAX_VALUE,
                Long.MIN_VALUE, Long.MIN_VALUE + 1, (long) Integer.MAX_VALUE + 1));
        List<Double> doubles = new ArrayList<>(List.of(0.0, -0.0, 1.0, 0.1, 1.0E-5, 123.456, 1.0E21, 9.99E-300,
                Double.MAX_VALUE, Double.MIN_VALUE, 7.937999999999998E-4));
        Random random = new Random(7L);
        for (int i = 0; i < 200; i++) {
            longs.add(random.nextLong() >> random.nextInt(64));
            doubles.add(Double.longBitsToDouble(random.nextLong() & 0x7FEF_FFFF_FFFF_FFFFL));
        }
        assertSameBytes((mine, theirs) -> {
            mine.writeStartObject();
            theirs.writeStartObject();
            for (int i = 0; i < longs.size(); i++) {
                mine.writeNumberField("l" + i, longs.get(i));
                theirs.writeNumberField("l" + i, longs.get(i));
            }
            for (int i = 0; i < doubles.size(); i++) {
                mine.writeNumberField("d" + i, doubles.get(i));
                theirs.writeNumberField("d" + i, doubles.get(i));
            }
            mine.writeBooleanField("t", true);
            theirs.writeBooleanField("t", true);
            mine.writeBooleanField("f", false);
            theirs.writeBooleanField("f", false);
            mine.writeNullField("n");
            theirs.writeNullField("n");
            mine.writeStringField("null string", null);
            theirs.writeStringField("null string", null);
            mine.writeFieldName("raw");
            theirs.writeFieldName("raw");
            mine.writeNumber("0.000123");
            theirs.writeNumber("0.000123");
            char[] digits = "x-12.5x".toCharArray();
            mine.writeFieldName("raw chars");
            theirs.writeFieldName("raw chars");
            mine.writeNumber(digits, 1, 5);
            theirs.writeNumber(digits, 1, 5);
            mine.writeArrayFieldStart("budgets");
            theirs.writeArrayFieldStart("budgets");
            for (int b = 0; b < 3; b++) {
                mine.writeStartObject();
                theirs.writeStartObject();
                mine.writeStringField("budget", "b" + b);
                theirs.writeStringField("budget", "b" + b);
                mine.writeFieldName("inner");
                theirs.writeFieldName("inner");
                mine.writeStartObject();
                theirs.writeStartObject();
                mine.writeEndObject();
                theirs.writeEndObject();
                mine.writeEndObject();
                theirs.writeEndObject();
            }
            mine.writeEndArray();
            theirs.writeEndArray();
            mine.writeArrayFieldStart("empty");
            theirs.writeArrayFieldStart("empty");
            mine.writeEndArray();
            theirs.writeEndArray();
            mine.writeFieldName("last");
            theirs.writeFieldName("last");
            mine.writeNumber(-42L);
            theirs.writeNumber(-42L);
            mine.writeEndObject();
            theirs.writeEndObject();
        });
    }

    @Test
    void resetStartsAFreshLineAfterTheKeptBytes() {
        JsonLine line = new JsonLine(4);
        for (int round = 0; round < 3; round++) {
            line.reset(1);
            line.writeStartObject();
            line.writeNumberField("seq", round);
            line.writeEndObject();
            line.writeRaw((byte) '\n');
            assertEquals("{\"seq\":" + round + "}\n",
                    new String(line.bytes(), 1, line.size() - 1, java.nio.charset.StandardCharsets.UTF_8));
        }
    }
}
