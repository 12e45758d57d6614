package dev.tokenguard.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.sample.stub.StubUsage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SampleAppTest {

    /** Same simple name as the agent's exception; the app must recognise it without depending on the agent. */
    static final class BudgetExhaustedException extends RuntimeException {
        BudgetExhaustedException(String message) {
            super(message);
        }
    }

    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    private List<String> outLines() {
        return outBytes.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private String errText() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void offlineByDefaultUsingTheEmbeddedStub() {
        int status = SampleApp.run(new String[] {"--tickets", "4"}, Map.of(), out, err);

        assertEquals(0, status, errText());
        List<String> lines = outLines();
        assertTrue(lines.get(0).startsWith("OPENAI_API_KEY is not set: using the offline OpenAI stub at http://127.0.0.1:"),
                lines.get(0));
        assertEquals(6, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(1).startsWith("T-1001  chat "), lines.get(1));
        assertTrue(lines.get(2).startsWith("T-1002  chat-stream  usage not reported"), lines.get(2));
        assertTrue(lines.get(3).startsWith("T-1003  responses "), lines.get(3));
        assertTrue(lines.get(4).startsWith("T-1004  chat "), lines.get(4));
        assertTrue(lines.get(5).startsWith("Summarized 4 tickets"), lines.get(5));
        assertEquals("", errText());
    }

    @Test
    void withAnApiKeyItTalksToTheConfiguredEndpointAndPrintsTheReportedUsage() {
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            Map<String, String> env = Map.of(
                    "OPENAI_API_KEY", "sk-from-env", "OPENAI_BASE_URL", server.baseUrl(), "SAMPLE_MODEL", "gpt-4.1");
            int status = SampleApp.run(new String[] {"--tickets=5"}, env, out, err);

            assertEquals(0, status, errText());
            List<RecordedRequest> requests = server.requests();
            assertEquals(5, requests.size());
            assertEquals(List.of("/v1/chat/completions", "/v1/chat/completions", "/v1/responses",
                            "/v1/chat/completions", "/v1/chat/completions"),
                    requests.stream().map(RecordedRequest::path).toList());
            assertTrue(requests.get(1).streaming());
            assertFalse(requests.get(1).body().contains("stream_options"), "the app does not ask for stream usage");
            assertTrue(requests.stream().allMatch(r -> r.body().contains("\"model\":\"gpt-4.1\"")));
            assertEquals("Bearer sk-from-env", requests.get(0).header("authorization"));

            List<String> lines = outLines();
            assertEquals("Using the OpenAI API at " + server.baseUrl() + " with model gpt-4.1.", lines.get(0));
            long reported = 0;
            for (int i = 0; i < 5; i++) {
                StubUsage usage = requests.get(i).usage();
                String line = lines.get(i + 1);
                assertTrue(line.startsWith(Ticket.ALL.get(i).id() + "  "), line);
                if (i == 1) {
                    assertTrue(line.contains("usage not reported"), line);
                } else {
                    assertTrue(line.contains(usage.totalTokens() + " tokens (" + usage.inputTokens() + " in, "
                            + usage.outputTokens() + " out)"), line + " vs " + usage);
                    reported += usage.totalTokens();
                }
            }
            assertTrue(lines.get(1).endsWith("I was charged twice for my March invoice ..."),
                    lines.get(1));
            assertEquals("Summarized 5 tickets; the responses reported " + reported + " tokens.", lines.get(6));
        }
    }

    @Test
    void anOrdinaryFailureStopsTheRunWithStatusOne() {
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            server.setFailNext(400);
            int status = SampleApp.run(new String[0],
                    Map.of("OPENAI_API_KEY", "sk-from-env", "OPENAI_BASE_URL", server.baseUrl()), out, err);

            assertEquals(1, status);
            assertTrue(errText().startsWith("T-1001 failed: com.openai.errors.BadRequestException: "), errText());
            assertFalse(errText().contains("sk-from-env"), "the key is never printed");
            assertEquals(1, server.requestCount(), "no further ticket is tried");
        }
    }

    @Test
    void aBudgetRefusalPrintsItsMessageAndStopsWithStatusZero() {
        List<String> called = new ArrayList<>();
        SampleApp.Summarizer summarizer = (index, ticket) -> {
            called.add(ticket.id());
            if (index == 2) {
                throw new BudgetExhaustedException("Token budget 'default' exhausted for scope thread:main#1: "
                        + "1,020 of 1,000 tokens used; refused openai chat gpt-4o-mini");
            }
            return new Summary("chat", 10L, 5L, "summary of " + ticket.id());
        };

        int status = SampleApp.summarizeAll(Ticket.ALL, summarizer, out, err);

        assertEquals(0, status);
        assertEquals(List.of("T-1001", "T-1002", "T-1003"), called);
        List<String> lines = outLines();
        assertEquals(3, lines.size(), String.join("\n", lines));
        assertEquals("refused: Token budget 'default' exhausted for scope thread:main#1: 1,020 of 1,000 tokens used; "
                + "refused openai chat gpt-4o-mini", lines.get(2));
        assertEquals("", errText());
    }

    @Test
    void aRefusalIsRecognisedWhenWrappedButOtherExceptionsAreNot() {
        BudgetExhaustedException refusal = new BudgetExhaustedException("over budget");
        assertEquals(refusal, SampleApp.budgetRefusal(refusal).orElseThrow());
        assertEquals(refusal, SampleApp.budgetRefusal(new RuntimeException("wrapped", refusal)).orElseThrow());
        assertTrue(SampleApp.budgetRefusal(new IllegalStateException("BudgetExhaustedException")).isEmpty());
        assertTrue(SampleApp.budgetRefusal(new RuntimeException(new IllegalArgumentException())).isEmpty());
    }

    @Test
    void badArgumentsAreExplained() {
        assertEquals(2, SampleApp.run(new String[] {"--tickets", "13"}, Map.of(), out, err));
        assertTrue(errText().contains("--tickets must be a whole number from 1 to 12, got '13'"), errText());
        assertEquals(2, SampleApp.run(new String[] {"--tickets", "many"}, Map.of(), out, err));
        assertTrue(errText().contains("got 'many'"), errText());
        assertEquals(2, SampleApp.run(new String[] {"--tickets"}, Map.of(), out, err));
        assertEquals(2, SampleApp.run(new String[] {"--verbose"}, Map.of(), out, err));
        assertTrue(errText().contains("unknown argument '--verbose'"), errText());
        assertTrue(outLines().isEmpty(), "nothing started");
    }

    @Test
    void firstWordsShortensLongAnswers() {
        assertEquals("one two three ...", SampleApp.firstWords(" one two three four ", 3));
        assertEquals("one two", SampleApp.firstWords("one two\n", 3));
    }
}
