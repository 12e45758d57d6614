package dev.tokenguard.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tokenguard.sample.stub.FakeAnthropicServer;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
    void theProviderOptionDefaultsToOpenAi() {
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            Map<String, String> env = Map.of("OPENAI_API_KEY", "sk-from-env", "OPENAI_BASE_URL", server.baseUrl());
            assertEquals(0, SampleApp.run(new String[] {"--provider", "openai", "--tickets", "1"}, env, out, err),
                    errText());
            assertEquals(0, SampleApp.run(new String[] {"--tickets=1", "--provider=OpenAI"}, env, out, err), errText());
            assertEquals(2, server.requestCount());
            assertEquals(List.of("/v1/chat/completions", "/v1/chat/completions"),
                    server.requests().stream().map(RecordedRequest::path).toList());
        }
    }

    @Test
    void anthropicOfflineUsesTheEmbeddedAnthropicStub() {
        int status = SampleApp.run(new String[] {"--provider", "anthropic", "--tickets", "4"},
                Map.of("OPENAI_API_KEY", "sk-not-used"), out, err);

        assertEquals(0, status, errText());
        List<String> lines = outLines();
        assertEquals(6, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).startsWith(
                "ANTHROPIC_API_KEY is not set: using the offline Anthropic stub at http://127.0.0.1:"), lines.get(0));
        assertTrue(lines.get(0).endsWith(" with model claude-haiku-4-5."), lines.get(0));
        assertTrue(lines.get(1).startsWith("T-1001  messages "), lines.get(1));
        assertTrue(lines.get(2).startsWith("T-1002  stream "), lines.get(2));
        assertTrue(lines.get(3).startsWith("T-1003  beta "), lines.get(3));
        assertTrue(lines.get(4).startsWith("T-1004  messages "), lines.get(4));
        assertTrue(lines.stream().skip(1).limit(4).noneMatch(l -> l.contains("usage not reported")), lines.toString());
        assertTrue(lines.get(5).startsWith("Summarized 4 tickets"), lines.get(5));
        assertEquals("", errText());
    }

    @ParameterizedTest
    @CsvSource({
            "gemini,  GOOGLE_API_KEY and GEMINI_API_KEY are not set: using the offline Gemini stub at, "
                    + "model gemini-2.5-flash, generate stream generate generate",
            "bedrock, AWS_REGION is not set: using the offline Bedrock stub at, "
                    + "model anthropic.claude-3-haiku-20240307-v1:0, converse invoke converse converse",
            "azure,   AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY are not both set: using the offline Azure OpenAI"
                    + " stub at, deployment gpt-4o-mini, chat chat-stream chat chat",
            "ollama,  OLLAMA_HOST is not set: using the offline Ollama stub at, "
                    + "model llama3.2, chat chat-stream generate chat"})
    void everyOtherProviderRunsOfflineAgainstItsEmbeddedStub(String provider, String first, String model,
                                                            String methods) {
        // the environment holds no credentials, whatever this JVM's own environment holds
        int status = SampleApp.run(new String[] {"--provider", provider, "--tickets", "4"}, Map.of(), out, err);

        assertEquals(0, status, errText());
        List<String> lines = outLines();
        assertEquals(6, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).startsWith(first + " http://127.0.0.1:"), lines.get(0));
        assertTrue(lines.get(0).endsWith(" with " + model + "."), lines.get(0));
        List<String> expected = List.of(methods.split(" "));
        assertEquals(4, expected.size());
        for (int i = 0; i < 4; i++) {
            String line = lines.get(i + 1);
            assertTrue(line.startsWith(Ticket.ALL.get(i).id() + "  " + expected.get(i) + " "), line);
            assertEquals(provider.equals("azure") && i == 1, line.contains("usage not reported"), line);
        }
        assertTrue(lines.get(5).startsWith("Summarized 4 tickets; the responses reported "), lines.get(5));
        assertEquals("", errText(), "nothing but the app's own lines");
    }

    @Test
    void anthropicWithAnApiKeyTalksToTheConfiguredEndpointAndCountsCachedInput() {
        try (FakeAnthropicServer server = FakeAnthropicServer.start()) {
            server.setCacheTokens(40, 8);
            Map<String, String> env = Map.of("ANTHROPIC_API_KEY", "sk-ant-from-env",
                    "ANTHROPIC_BASE_URL", server.baseUrl(), "SAMPLE_MODEL", "claude-sonnet-4-5");
            int status = SampleApp.run(new String[] {"--provider=anthropic", "--tickets=5"}, env, out, err);

            assertEquals(0, status, errText());
            List<RecordedRequest> requests = server.requests();
            assertEquals(5, requests.size());
            assertTrue(requests.stream().allMatch(r -> r.path().equals("/v1/messages")));
            assertEquals(List.of(false, true, false, false, false),
                    requests.stream().map(RecordedRequest::streaming).toList());
            assertTrue(requests.stream().allMatch(r -> r.body().contains("\"model\":\"claude-sonnet-4-5\"")));
            assertTrue(requests.stream().allMatch(r -> r.body().contains("\"max_tokens\":256")));
            assertTrue(requests.get(0).body().contains(SampleApp.Summarizer.INSTRUCTIONS), requests.get(0).body());
            assertEquals("Bearer sk-ant-from-env", requests.get(0).header("authorization"));
            assertTrue(server.countTokensRequests().isEmpty());

            List<String> lines = outLines();
            assertEquals(7, lines.size(), String.join("\n", lines));
            assertEquals("Using the Anthropic API at " + server.baseUrl() + " with model claude-sonnet-4-5.",
                    lines.get(0));
            List<String> methods = List.of("messages", "stream", "beta", "messages", "messages");
            long reported = 0;
            for (int i = 0; i < 5; i++) {
                StubUsage usage = requests.get(i).usage();
                assertEquals(40, usage.cachedTokens());
                assertEquals(8, usage.cacheWriteTokens());
                String line = lines.get(i + 1);
                assertTrue(line.startsWith(Ticket.ALL.get(i).id() + "  " + methods.get(i) + " "), line);
                // the input printed is the whole prompt: input_tokens + cache read + cache write
                assertTrue(line.contains(usage.totalTokens() + " tokens (" + (usage.uncachedInputTokens() + 48)
                        + " in, " + usage.outputTokens() + " out)"), line + " vs " + usage);
                reported += usage.totalTokens();
            }
            assertTrue(lines.get(1).endsWith("I was charged twice for my March invoice ..."), lines.get(1));
            assertEquals(server.totalTokens(), reported);
            assertEquals("Summarized 5 tickets; the responses reported " + reported + " tokens.", lines.get(6));
            assertFalse(String.join("\n", lines).contains("sk-ant-from-env"), "the key is never printed");
        }
    }

    @Test
    void anAnthropicFailureStopsTheRunWithStatusOne() {
        try (FakeAnthropicServer server = FakeAnthropicServer.start()) {
            server.setFailNext(400);
            int status = SampleApp.run(new String[] {"--provider", "anthropic"},
                    Map.of("ANTHROPIC_API_KEY", "sk-ant-from-env", "ANTHROPIC_BASE_URL", server.baseUrl()), out, err);

            assertEquals(1, status);
            assertTrue(errText().startsWith("T-1001 failed: com.anthropic.errors.BadRequestException: "), errText());
            assertFalse(errText().contains("sk-ant-from-env"), "the key is never printed");
            assertEquals(1, server.requestCount(), "no further ticket is tried");
        }
    }

    @Test
    void aBrokenAnthropicStreamStopsTheRunWithStatusOne() {
        try (FakeAnthropicServer server = FakeAnthropicServer.start()) {
            server.failNextStreamMidway();
            int status = SampleApp.run(new String[] {"--provider", "anthropic", "--tickets", "3"},
                    Map.of("ANTHROPIC_API_KEY", "sk-ant-from-env", "ANTHROPIC_BASE_URL", server.baseUrl()), out, err);

            assertEquals(1, status);
            assertTrue(errText().startsWith("T-1002 failed: com.anthropic.errors.SseException: "), errText());
            assertEquals(2, server.requestCount());
            assertEquals("overloaded_error", server.lastRequest().streamError());
            assertEquals(2, outLines().size(), "the first ticket was summarized: " + outLines());
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
        assertEquals(2, SampleApp.run(new String[] {"--provider", "vertex"}, Map.of(), out, err));
        assertTrue(errText().contains("--provider must be one of openai, anthropic, gemini, bedrock, azure, ollama, "
                + "got 'vertex'"), errText());
        assertEquals(2, SampleApp.run(new String[] {"--tickets", "2", "--provider"}, Map.of(), out, err));
        assertTrue(errText().contains("--provider needs one of openai, anthropic, gemini, bedrock, azure, ollama"),
                errText());
        assertTrue(errText().contains(
                "usage: SampleApp [--tickets N] [--provider openai|anthropic|gemini|bedrock|azure|ollama]"), errText());
        assertTrue(outLines().isEmpty(), "nothing started");
    }

    @Test
    void firstWordsShortensLongAnswers() {
        assertEquals("one two three ...", SampleApp.firstWords(" one two three four ", 3));
        assertEquals("one two", SampleApp.firstWords("one two\n", 3));
    }
}
