package dev.tokenguard.faults;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole fault matrix: every server and process fault, with and without the agent; writes
 * {@code docs/RELIABILITY.md} and fails when any row differs or leaks. Not part of the default build (it takes
 * minutes): the {@code faults} profile of this module runs it,
 * {@code mvn -q -Pfaults verify -pl integration-tests -am}.
 */
class FaultMatrix {
    static final String COMMAND = "mvn -q -Pfaults verify -pl integration-tests -am";

    @TempDir
    Path work;

    @Test
    void everyFaultEndsWithTheAgentAsItDoesWithout() throws Exception {
        List<Matrix.Row> server;
        List<Matrix.Row> oldest;
        List<Matrix.Row> rawHttp;
        List<Matrix.Row> springAi;
        List<Matrix.Row> process = new ArrayList<>();
        String oldestVersion = System.getProperty("tokenguard.openai.oldest.version");
        Path oldestJars = Path.of(System.getProperty("tokenguard.openai.oldest.dir"));
        try (Matrix matrix = new Matrix(work)) {
            server = matrix.serverFaults(Fault.server());
            oldest = matrix.serverFaults(Fault.server(), ScenarioJvm.classPathWithOpenAi(oldestJars));
            rawHttp = matrix.rawHttpFaults(Fault.rawHttp());
            springAi = matrix.springAiFaults(Fault.springAi(), Path.of(System.getProperty("tokenguard.springai1.jar")));
            process.add(matrix.sigkill(10));
            process.add(matrix.exitFromCallThread());
            process.add(matrix.threads(64, 1_000));
        }
        String markdown = Matrix.markdown(server, oldestVersion, oldest, rawHttp, springAi, process, COMMAND);
        Matrix.write(Path.of(System.getProperty("tokenguard.faults.report", "target/RELIABILITY.md")), markdown);
        assertEquals(Fault.server().size(), server.size(), markdown);
        assertEquals(Fault.server().size(), oldest.size(), markdown);
        assertEquals(Fault.rawHttp().size(), rawHttp.size(), markdown);
        assertEquals(Fault.springAi().size(), springAi.size(), markdown);
        assertEquals(3, process.size(), markdown);
        List<Matrix.Row> failed = new ArrayList<>();
        server.stream().filter(r -> !r.ok()).forEach(failed::add);
        oldest.stream().filter(r -> !r.ok()).forEach(failed::add);
        rawHttp.stream().filter(r -> !r.ok()).forEach(failed::add);
        springAi.stream().filter(r -> !r.ok()).forEach(failed::add);
        process.stream().filter(r -> !r.ok()).forEach(failed::add);
        assertTrue(failed.isEmpty(), () -> failed.size() + " rows differ or leak:\n" + markdown);
    }
}
