package dev.tokenguard.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Budgets that survive a restart, with the built agent on a real -javaagent flag: a JVM spends part of a daily
 * {@code global} budget and exits; a second JVM on the same session-log directory refuses at the call where the two
 * together reach the limit. Both write the {@code daily} layout, which {@code report} then reads.
 */
class RestartReplayIT {
    static final String APP = "dev.tokenguard.it.app.ScenarioApp";
    static final long LIMIT = 1_200;
    static final String AGENT_ARGS = "budget.scope=global,budget.window=1d,budget.max-tokens=" + LIMIT
            + ",session-log.layout=daily";
    static final Map<String, String> SERVICE = Map.of("OTEL_SERVICE_NAME", "billing");

    @TempDir
    Path work;
    FakeOpenAiServer server;

    @BeforeEach
    void startServer() {
        server = FakeOpenAiServer.start();
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    Path sessions() {
        return work.resolve("tokenguard-sessions");
    }

    List<Long> servedTotals() {
        return server.requests().stream().filter(r -> r.usage() != null).map(r -> r.usage().totalTokens()).toList();
    }

    List<Path> files() throws Exception {
        try (Stream<Path> list = Files.list(sessions())) {
            return list.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList();
        }
    }

    @Test
    void aRestartedJvmKeepsTodaysSpendAndReportReadsTheDailyFiles() throws Exception {
        ForkedJvm.Result first = ForkedJvm.run(work, AGENT_ARGS, List.of(), SERVICE, APP, "sync", server.baseUrl(), "3");
        assertEquals(0, first.exitCode(), first::toString);
        assertEquals(3, first.lines("OK ").size(), first::toString);
        List<Long> firstServed = servedTotals();
        assertEquals(3, firstServed.size());
        long spent = firstServed.stream().mapToLong(Long::longValue).sum();
        assertTrue(spent < LIMIT, "the first JVM must leave budget over: " + firstServed);

        List<Path> afterFirst = files();
        assertEquals(1, afterFirst.size(), afterFirst::toString);
        String today = LocalDate.now(ZoneOffset.UTC).toString();
        assertTrue(afterFirst.get(0).getFileName().toString().matches("billing\\." + today + "\\.p[0-9]+-[0-9a-z]+\\.jsonl"),
                afterFirst.get(0).toString());
        // a crash's cut-off last line, and another service's spend today in the same directory: neither counts
        Files.writeString(afterFirst.get(0), "{\"ts\":\"" + Instant.now().truncatedTo(ChronoUnit.MILLIS)
                + "\",\"session\":\"global~p1-x-1\",\"seq\":99,\"event\":\"llm_call\",\"input_tokens\":9",
                StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        String ts = Instant.now().minusSeconds(1).truncatedTo(ChronoUnit.MILLIS).toString();
        Files.writeString(sessions().resolve("reports." + today + ".p1-zz.jsonl"), String.join("\n",
                "{\"ts\":\"" + ts + "\",\"session\":\"global~p1-zz-1\",\"seq\":1,\"event\":\"session_start\","
                        + "\"scope\":\"global\",\"thread\":\"main\",\"pid\":1,\"agent_version\":\"x\",\"service\":\"reports\"}",
                "{\"ts\":\"" + ts + "\",\"session\":\"global~p1-zz-1\",\"seq\":2,\"event\":\"llm_call\",\"provider\":"
                        + "\"openai\",\"request_model\":\"gpt-4o-mini\",\"input_tokens\":1000,\"output_tokens\":100,"
                        + "\"total_tokens\":1100,\"cost_usd\":null,\"budget\":[{\"name\":\"default\",\"scope\":\"global\","
                        + "\"used\":1100,\"limit\":1200}]}", ""), StandardCharsets.UTF_8);

        ForkedJvm.Result second = ForkedJvm.run(work, AGENT_ARGS, List.of(), SERVICE, APP, "sync", server.baseUrl(), "50");
        assertEquals(0, second.exitCode(), second::toString);
        assertEquals(List.of("[tokenguard] TokenGuard: governing openai-java 4.101.0", ForkedJvm.GOVERNING_OKHTTP),
                second.agentLines(), second::toString);
        List<Long> served = servedTotals();
        int k = served.size();
        long before = served.subList(0, k - 1).stream().mapToLong(Long::longValue).sum();
        long all = served.stream().mapToLong(Long::longValue).sum();
        assertTrue(k > 3, "the second JVM was admitted at first: " + served);
        assertTrue(before < LIMIT && all >= LIMIT,
                "the second JVM must stop where both JVMs together reach the limit: " + served + "\n" + second);
        assertEquals(k - 3, second.lines("OK ").size(), second::toString);
        List<String> refused = second.lines("REFUSED ");
        assertEquals(3, refused.size(), second::toString);
        assertTrue(refused.get(0).contains("Token budget 'default' exhausted for scope global: "
                + String.format(Locale.ROOT, "%,d", all) + " of 1,200 tokens used"), refused.get(0));

        List<Path> files = files();
        assertEquals(3, files.size(), files::toString);
        long lines = 0;
        for (Path f : files) {
            if (f.getFileName().toString().startsWith("billing.")) {
                for (String line : Files.readAllLines(f)) {
                    if (line.endsWith("}")) {
                        JsonNode n = OpenAiAgentIT.JSON.readTree(line);
                        assertTrue(n.get("session").asText().startsWith("global~"), line);
                        lines++;
                    }
                }
            }
        }
        assertTrue(lines >= k, "every call is in the daily files: " + lines);

        ForkedJvm.Result report = ForkedJvm.runWithClassPath(work, null, List.of(), Map.of(),
                ForkedJvm.AGENT_JAR.toString(), "dev.tokenguard.agent.TokenGuardCli", "report", sessions().toString());
        assertEquals(0, report.exitCode(), report::toString);
        String text = String.join("\n", report.stdout());
        // by hand: the server's ledger over both JVMs, plus the other service's one call of 1,000 + 100
        long input = server.totalInputTokens() + 1000;
        long output = server.totalOutputTokens() + 100;
        assertTrue(text.contains("3 session file(s)"), text);
        assertTrue(text.matches("(?s).*\\nTOTAL +" + (k + 1) + " +" + input + " +" + output + " +" + (input + output)
                + " .*"), text);
        assertTrue(text.contains("unreadable lines skipped: 1"), text);
    }
}
