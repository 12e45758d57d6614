package dev.tokenguard.sample.stub;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The event-stream framing against bytes worked out apart from this code (the prelude and message CRCs with
 * Python's zlib.crc32; the empty message is the format's published test vector).
 */
class AwsEventStreamTest {

    @Test
    void anEmptyMessageIsThePublishedSixteenBytes() {
        assertArrayEquals(HexFormat.of().parseHex("00000010" + "00000000" + "05c248eb" + "7d98c8ff"),
                AwsEventStream.encode(Map.of(), new byte[0]));
    }

    @Test
    void aMessageWithOneStringHeaderAndAPayload() {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(":event-type", "chunk");
        byte[] expected = HexFormat.of().parseHex("00000026" + "00000014" + "3179d1b0"
                + "0b" + "3a6576656e742d74797065" + "07" + "0005" + "6368756e6b" + "7b7d" + "9bf70107");
        assertArrayEquals(expected, AwsEventStream.encode(headers, "{}".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void anEventCarriesTheThreeHeadersBedrockSendsAndDecodesBack() {
        byte[] one = AwsEventStream.event("metadata", "{\"usage\":{}}".getBytes(StandardCharsets.UTF_8));
        byte[] two = AwsEventStream.event("messageStop", "{}".getBytes(StandardCharsets.UTF_8));
        byte[] both = new byte[one.length + two.length];
        System.arraycopy(one, 0, both, 0, one.length);
        System.arraycopy(two, 0, both, one.length, two.length);
        List<AwsEventStream.Message> messages = AwsEventStream.decodeAll(both);
        assertEquals(2, messages.size());
        assertEquals(Map.of(":event-type", "metadata", ":content-type", "application/json", ":message-type", "event"),
                messages.get(0).headers());
        assertEquals("{\"usage\":{}}", messages.get(0).payloadText());
        assertEquals("messageStop", messages.get(1).headers().get(":event-type"));
        // total length = 12 (prelude) + headers + payload + 4 (message CRC)
        int headers = (1 + 11 + 1 + 2 + 8) + (1 + 13 + 1 + 2 + 16) + (1 + 13 + 1 + 2 + 5);
        assertEquals(12 + headers + 12 + 4, one.length);
    }

    @Test
    void aFlippedBitFailsTheCrcCheck() {
        byte[] message = AwsEventStream.event("chunk", "{\"bytes\":\"e30=\"}".getBytes(StandardCharsets.UTF_8));
        byte[] payloadFlipped = message.clone();
        payloadFlipped[message.length - 6] ^= 1;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AwsEventStream.decodeAll(payloadFlipped));
        assertTrue(e.getMessage().contains("message CRC"), e.getMessage());
        byte[] lengthFlipped = message.clone();
        lengthFlipped[3] ^= 1;
        e = assertThrows(IllegalArgumentException.class, () -> AwsEventStream.decodeAll(lengthFlipped));
        assertTrue(e.getMessage().contains("prelude CRC"), e.getMessage());
    }
}
