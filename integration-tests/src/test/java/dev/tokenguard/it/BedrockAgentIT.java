package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.it.app.BedrockScenarioApp;
import dev.tokenguard.sample.scenarios.ScenarioRunner;
import dev.tokenguard.sample.stub.FakeBedrockServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built agent on a real -javaagent flag, governing the real AWS SDK's Bedrock Runtime clients (sync over
 * Apache HttpClient, async over Netty) against the fake Bedrock server, at the newest and the oldest supported
 * SDK. One forked JVM runs all five scenarios, each on its own thread and so under its own budget.
 */
class BedrockAgentIT {
    static final String APP = "dev.tokenguard.it.app.BedrockScenarioApp";
    static final String GOVERNING = "[tokenguard] TokenGuard: governing aws-bedrock ";
    static final String ALL = "converse,async-converse,converse-stream,invoke,invoke-stream";
    static final long LIMIT = 1_200;
    static FakeBedrockServer server;

    @TempDir
    Path work;

    @BeforeAll
    static void startServer() {
        server = FakeBedrockServer.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @BeforeEach
    void resetServer() {
        server.reset();
    }

    /**
     * The agent arguments of a governed run: a budget, and the fake server listed as an LLM endpoint of the
     * raw-HTTP layer too, so that a request it counted besides the SDK layer would show as a second charge.
     */
    static String governed() {
        return "budget.max-tokens=" + LIMIT + ",http.endpoints=" + server.baseUrl();
    }

    /**
     * The app's logging at INFO: without a configuration Logback prints the AWS SDK's DEBUG lines, thousands per
     * run, which only slow the forked JVM down.
     */
    List<String> quietLogging() throws IOException {
        Path config = work.resolve("logback.xml");
        Files.writeString(config, "<configuration><appender name=\"out\" class=\"ch.qos.logback.core.ConsoleAppender\">"
                + "<encoder><pattern>%msg%n</pattern></encoder></appender>"
                + "<root level=\"INFO\"><appender-ref ref=\"out\"/></root></configuration>");
        return List.of("-Dlogback.configurationFile=" + config);
    }

    @Test
    void everyOperationIsChargedOncePerRequestAndRefusedBeforeSendingOnceItsBudgetIsSpent() throws Exception {
        ForkedJvm.Result result = ForkedJvm.run(work, governed(), quietLogging(), Map.of(), APP, ALL,
                server.baseUrl(), "200");
        assertEquals(List.of(GOVERNING + System.getProperty("tokenguard.bedrock.version")), result.agentLines(),
                result::toString);
        assertEachScenarioRefusedAtItsLimit(result, work.resolve("tokenguard-sessions"));
        assertNoSecretIn(result, work.resolve("tokenguard-sessions"));
    }

    @Test
    void theOldestSupportedSdkIsGovernedToo() throws Exception {
        Path oldest = Path.of(System.getProperty("tokenguard.bedrock.oldest.dir"));
        ForkedJvm.Result result = ForkedJvm.runWithClassPath(work, governed(), quietLogging(), Map.of(),
                classPathWithOldestSdk(oldest), APP, ALL, server.baseUrl(), "200");
        assertEquals(List.of(GOVERNING + System.getProperty("tokenguard.bedrock.oldest.version")),
                result.agentLines(), result::toString);
        assertEachScenarioRefusedAtItsLimit(result, work.resolve("tokenguard-sessions"));
    }

    @Test
    void switchingThePluginOffLeavesTheSdkAlone() throws Exception {
        ForkedJvm.Result result = ForkedJvm.run(work, "budget.max-tokens=100,instrumentation.aws-bedrock.enabled=false",
                quietLogging(), Map.of(), APP, "converse,converse-stream", server.baseUrl(), "4");
        assertEquals(0, result.exitCode(), result::toString);
        assertEquals(List.of(), result.agentLines(), result::toString);
        assertEquals(8, result.lines("OK ").size(), "nothing is refused: the SDK is not governed");
        assertEquals(8, server.requestCount());
        assertEquals(0, SessionLogs.read(work.resolve("tokenguard-sessions")).of("llm_call").size());
    }

    /**
     * Per scenario, against the server's ledger of that scenario's model: the server served calls until the
     * scenario's budget was spent and none after; the app saw each served call and then refusals; the session
     * log holds one llm_call per served request with the tokens the server reported. Across scenarios, the
     * llm_calls are exactly the server's requests: no request was charged twice.
     */
    static void assertEachScenarioRefusedAtItsLimit(ForkedJvm.Result result, Path sessionDir) throws IOException {
        assertEquals(0, result.exitCode(), result::toString);
        SessionLogs logs = SessionLogs.read(sessionDir);
        List<JsonNode> allCalls = logs.of("llm_call");
        assertEquals(server.requestCount(), allCalls.size(), "one llm_call per physical request");
        assertEquals(5, BedrockScenarioApp.MODELS.size());
        for (List<String> scenario : BedrockScenarioApp.MODELS) {
            String name = scenario.get(0);
            String model = scenario.get(1);
            List<RecordedRequest> served = server.requests().stream()
                    .filter(r -> r.path().split("/")[2].equals(model) && r.answered()).toList();
            int k = served.size();
            assertTrue(k > 1, name + ": several calls were served before the refusal: " + served);
            long before = 0;
            for (int i = 0; i < k - 1; i++) {
                before += served.get(i).usage().totalTokens();
            }
            long all = before + served.get(k - 1).usage().totalTokens();
            assertTrue(before < LIMIT && all >= LIMIT, name + ": the server stops exactly when the budget is spent: "
                    + served);
            assertEquals(k, result.lines("OK " + name + " ").size(), result::toString);
            List<String> refused = result.stdout().stream().filter(l -> l.startsWith("REFUSED ")
                    && l.contains("; refused aws.bedrock chat " + model + " loader=")).toList();
            assertEquals(1 + ScenarioRunner.EXTRA_TRIES_AFTER_REFUSAL, refused.size(), result::toString);
            assertTrue(refused.get(0).startsWith("REFUSED dev.tokenguard.api.BudgetExhaustedException Token budget"
                    + " 'default' exhausted for scope thread:bedrock-" + name + "#"), refused.get(0));
            assertTrue(refused.get(0).contains(": " + String.format(Locale.ROOT, "%,d", all) + " of "
                    + String.format(Locale.ROOT, "%,d", LIMIT) + " tokens used;"), refused.get(0));
            assertTrue(refused.get(0).endsWith("loader=null"), "the bootstrap class: " + refused.get(0));

            List<JsonNode> calls = allCalls.stream().filter(c -> c.get("request_model").asText().equals(model))
                    .toList();
            assertEquals(k, calls.size(), name);
            long input = served.stream().mapToLong(r -> r.usage().inputTokens()).sum();
            long output = served.stream().mapToLong(r -> r.usage().outputTokens()).sum();
            assertEquals(input, calls.stream().mapToLong(c -> c.get("input_tokens").asLong()).sum(), name);
            assertEquals(output, calls.stream().mapToLong(c -> c.get("output_tokens").asLong()).sum(), name);
            boolean streaming = name.endsWith("stream");
            for (JsonNode call : calls) {
                assertEquals("aws.bedrock", call.get("provider").asText(), call.toString());
                assertEquals("chat", call.get("operation").asText(), call.toString());
                assertEquals("provider", call.get("usage_source").asText(), call.toString());
                assertEquals(streaming, call.get("streaming").asBoolean(), call.toString());
                assertEquals("ok", call.get("status").asText(), call.toString());
                assertTrue(call.get("cost_usd").asDouble() > 0, "a priced model: " + call);
            }
            assertEquals(1 + ScenarioRunner.EXTRA_TRIES_AFTER_REFUSAL, logs.of("budget_exceeded").stream()
                    .filter(e -> e.get("request_model").asText().equals(model)).count(), name);
        }
        assertEquals(5 * 3, logs.of("budget_warning").size(), "75, 90 and 95 % once per scenario's budget");
    }

    /** Neither the credentials nor the SigV4 signature reach the session log or the agent's own lines. */
    static void assertNoSecretIn(ForkedJvm.Result result, Path sessionDir) throws IOException {
        String authorization = server.requests().get(0).header("authorization");
        assertTrue(authorization != null && authorization.startsWith("AWS4-HMAC-SHA256 Credential="
                + BedrockScenarioApp.ACCESS_KEY), "the requests were signed");
        String signature = authorization.substring(authorization.indexOf("Signature=") + "Signature=".length());
        // the agent's own lines (the app's logging prints the SDK's debug lines, the signer's among them)
        List<String> lines = new ArrayList<>(result.agentLines());
        SessionLogs logs = SessionLogs.read(sessionDir);
        assertFalse(logs.files.isEmpty());
        for (Path file : logs.files) {
            lines.addAll(Files.readAllLines(file));
        }
        assertTrue(lines.size() > 10, lines::toString);
        for (String line : lines) {
            assertFalse(line.contains(BedrockScenarioApp.ACCESS_KEY), line);
            assertFalse(line.contains(BedrockScenarioApp.SECRET_KEY), line);
            assertFalse(line.contains(signature), line);
            assertFalse(line.contains("AWS4-HMAC-SHA256"), line);
        }
    }

    /**
     * The application class path with the AWS SDK, Netty and Apache HttpClient 4 replaced by the oldest supported
     * SDK and the versions it was built with.
     */
    static String classPathWithOldestSdk(Path jarDir) throws IOException {
        List<String> entries = new ArrayList<>();
        for (String entry : ForkedJvm.applicationClassPath().split(File.pathSeparator)) {
            String e = entry.replace('\\', '/');
            if (!e.contains("/software/amazon/") && !e.contains("/io/netty/")
                    && !e.contains("/org/apache/httpcomponents/httpclient/")
                    && !e.contains("/org/apache/httpcomponents/httpcore/")) {
                entries.add(entry);
            }
        }
        try (var jars = Files.list(jarDir)) {
            jars.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(p -> entries.add(p.toString()));
        }
        return String.join(File.pathSeparator, entries);
    }
}
