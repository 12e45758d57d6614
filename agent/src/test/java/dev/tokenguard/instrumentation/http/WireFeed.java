package dev.tokenguard.instrumentation.http;

import dev.tokenguard.core.Usage;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Feeds a body to a reader in pieces of a given size, through one reused buffer, as a client's stream would. */
final class WireFeed {
    /** Piece sizes: one byte at a time splits every UTF-8 character and every CRLF; the others split at odd places. */
    static final List<Integer> PIECES = List.of(1, 2, 3, 5, 7, 13, 64, 1 << 20);

    private WireFeed() {
    }

    static ResponseUsageReader read(WireApi api, String body, int piece) {
        ResponseUsageReader reader = ResponseUsageReader.of(api, null);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        byte[] buffer = new byte[Math.min(piece, bytes.length) + 6];
        for (int i = 0; i < bytes.length; i += piece) {
            int n = Math.min(piece, bytes.length - i);
            Arrays.fill(buffer, (byte) '#');
            System.arraycopy(bytes, i, buffer, 3, n);
            reader.onBytes(buffer, 3, n);
        }
        Arrays.fill(buffer, (byte) '#');
        reader.onEnd();
        return reader;
    }

    /** Reads the body in every piece size and checks each gives the same, expected usage and problem. */
    static Usage readAll(WireApi api, String body, Usage expected, String expectedProblem) {
        int runs = 0;
        Usage last = null;
        for (int piece : PIECES) {
            ResponseUsageReader r = read(api, body, piece);
            assertEquals(expected, r.usage(), "pieces of " + piece);
            assertEquals(expectedProblem, r.problem(), "pieces of " + piece);
            last = r.usage();
            runs++;
        }
        assertEquals(PIECES.size(), runs);
        return last;
    }

    static String crlf(String lf) {
        return lf.replace("\n", "\r\n");
    }
}
