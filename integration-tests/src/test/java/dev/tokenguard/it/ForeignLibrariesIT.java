package dev.tokenguard.it;

import dev.tokenguard.sample.stub.FakeOpenAiServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An app with its own Byte Buddy, Jackson, OkHttp, Kotlin and OpenTelemetry SDK, older ones and newer ones than the
 * agent's relocated copies (the versions are in the parent pom, {@code foreign.*}): it must print exactly what it
 * prints without the agent, while its calls are governed.
 */
class ForeignLibrariesIT {
    static final String APP = "dev.tokenguard.it.app.ForeignLibrariesApp";
    static final int CALLS = 3;
    /** The jars of these libraries on the test class path are replaced by the set under test. */
    static final List<String> REPLACED = List.of("byte-buddy-", "jackson-", "okhttp-", "okio", "kotlin-stdlib",
            "kotlin-reflect", "opentelemetry-");

    static FakeOpenAiServer server;

    @TempDir
    Path work;

    @BeforeAll
    static void startServer() {
        server = FakeOpenAiServer.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    static String classPathWith(Path jarDir) throws Exception {
        List<String> entries = new ArrayList<>();
        for (String entry : ForkedJvm.applicationClassPath().split(File.pathSeparator)) {
            String name = Path.of(entry).getFileName().toString();
            if (REPLACED.stream().noneMatch(name::startsWith)) {
                entries.add(entry);
            }
        }
        try (Stream<Path> jars = Files.list(jarDir)) {
            jars.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(p -> entries.add(p.toString()));
        }
        return String.join(File.pathSeparator, entries);
    }

    /** What the app printed, without the line naming its own span (random ids, different in every run). */
    static List<String> output(ForkedJvm.Result r) {
        return r.stdout().stream().filter(l -> !l.startsWith("APP_SPAN ")).toList();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"older", "newer"})
    void theAppsOwnLibrariesWorkAsWithoutTheAgentAndItsCallsAreGoverned(String set) throws Exception {
        Path jars = Path.of(System.getProperty("tokenguard.foreign." + set + ".dir"));
        String classPath = classPathWith(jars);
        Path plain = Files.createDirectory(work.resolve("plain"));
        Path governed = Files.createDirectory(work.resolve("governed"));
        String[] args = {server.baseUrl(), String.valueOf(CALLS)};

        // the server's answers depend on its request sequence: each run starts it afresh
        server.reset();
        ForkedJvm.Result without = ForkedJvm.runWithClassPath(plain, null, List.of(), Map.of(), classPath, APP, args);
        int servedWithout = server.requestCount();
        server.reset();
        ForkedJvm.Result with = ForkedJvm.runWithClassPath(governed, "", List.of(), Map.of(), classPath, APP, args);
        int servedWith = server.requestCount();

        assertEquals(0, without.exitCode(), without::toString);
        List<String> expected = output(without);
        // the libraries under test are the ones the app ran on
        List<String> libs = expected.stream().filter(l -> l.startsWith("LIB ")).toList();
        assertEquals(5, libs.size(), without::toString);
        try (Stream<Path> list = Files.list(jars)) {
            List<String> names = list.map(p -> p.getFileName().toString()).toList();
            for (String lib : libs) {
                String jar = lib.substring(lib.lastIndexOf(' ') + 1);
                assertTrue(names.contains(jar), lib + " should come from " + names);
            }
        }
        assertTrue(expected.contains("MADE {\"bytebuddy\":\"made by the app's Byte Buddy\",\"kotlin\":\"[a+b]\"} true"),
                without::toString);
        assertEquals(CALLS, expected.stream().filter(l -> l.startsWith("OK ")).count(), without::toString);

        assertEquals(0, with.exitCode(), with::toString);
        assertEquals(expected, output(with), with::toString);
        assertEquals(OpenAiAgentIT.EXPECTED_AGENT_LINES, with.agentLines(), with::toString);
        assertEquals(CALLS, servedWithout);
        assertEquals(CALLS, servedWith);
        SessionLogs logs = SessionLogs.read(governed.resolve("tokenguard-sessions"));
        assertEquals(CALLS, logs.of("llm_call").size(), "every call was governed");
        assertEquals(0, SessionLogs.read(plain.resolve("tokenguard-sessions")).events.size());
    }
}
