package dev.tokenguard.faults;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cheapest rows of the fault matrix ({@link FaultMatrix}) in the default build: a well-formed stream, a cut-off
 * JSON body, an absurd usage, and two gateways that send a usage chunk nobody asked for (one appended to the
 * upstream's, one that is the only one), each with and without the agent.
 */
class ServerFaultsIT {
    @TempDir
    Path work;

    @Test
    void theCheapestFaultsEndWithTheAgentAsTheyDoWithout() throws Exception {
        List<Matrix.Row> rows;
        int spans;
        try (Matrix matrix = new Matrix(work)) {
            rows = matrix.serverFaults(Fault.smoke());
            spans = matrix.spansScanned;
        }
        String markdown = Matrix.markdown(rows, List.of(), FaultMatrix.COMMAND);
        assertEquals(5, rows.size(), markdown);
        for (Matrix.Row row : rows) {
            assertTrue(row.ok(), () -> row.fault() + ": " + row.defects() + "\n" + markdown);
            assertEquals(0, row.secrets(), markdown);
        }
        // the runs with the agent exported their calls, so the secrets scan read real spans
        assertTrue(spans >= 5, "spans received: " + spans);
    }
}
