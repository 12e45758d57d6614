package dev.tokenguard.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.genai.Client;
import dev.tokenguard.sample.stub.FakeGeminiServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.sample.stub.StubUsage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Gemini summarizer on the real Google GenAI SDK against the fake Gemini server, without any agent: the
 * server's ledger is the oracle of what was sent and of the tokens each summary must show.
 */
class GeminiSummarizerTest {

    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    @Test
    void generatesAndStreamsAndShowsTheLastChunksTotals() {
        try (FakeGeminiServer server = FakeGeminiServer.start();
             Client client = SampleApp.geminiClient("gemini-test-key-1234", server.rootUrl())) {
            server.setCachedContentTokens(12);
            GeminiSummarizer summarizer = new GeminiSummarizer(client, SampleApp.DEFAULT_GEMINI_MODEL);
            List<Summary> summaries = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                summaries.add(summarizer.summarize(i, Ticket.ALL.get(i)));
            }

            List<RecordedRequest> requests = server.requests();
            assertEquals(4, requests.size());
            // the API version (v1 or v1beta, both served) is the SDK's choice; the methods are the app's
            String model = "/models/" + SampleApp.DEFAULT_GEMINI_MODEL;
            assertEquals(List.of(model + ":generateContent", model + ":streamGenerateContent",
                    model + ":generateContent", model + ":generateContent"),
                    requests.stream().map(r -> r.path().substring(r.path().indexOf("/models/"))).toList());
            assertEquals(List.of(false, true, false, false), requests.stream().map(RecordedRequest::streaming).toList());
            for (RecordedRequest request : requests) {
                assertEquals("gemini-test-key-1234", request.header("x-goog-api-key"));
                assertTrue(request.body().contains("\"maxOutputTokens\":256"), request.body());
                assertTrue(request.body().contains(SampleApp.Summarizer.INSTRUCTIONS), request.body());
            }
            assertTrue(server.countTokensRequests().isEmpty());

            assertEquals(List.of("generate", "stream", "generate", "generate"),
                    summaries.stream().map(Summary::method).toList());
            for (int i = 0; i < 4; i++) {
                Summary summary = summaries.get(i);
                StubUsage usage = requests.get(i).usage();
                // input: promptTokenCount, cached tokens included; output: candidates plus thoughts (2.5 thinks)
                assertTrue(usage.reasoningTokens() > 0, usage.toString());
                assertEquals(12, usage.cachedTokens());
                assertEquals(usage.inputTokens(), summary.inputTokens(), summary + " vs " + usage);
                assertEquals(usage.outputTokens(), summary.outputTokens(), summary + " vs " + usage);
                assertTrue(summary.text().startsWith(BedrockSummarizerTest.firstWords(Ticket.ALL.get(i))),
                        summary.text());
                assertTrue(summary.text().endsWith("."), "the whole answer, every chunk of a stream: " + summary.text());
            }
        }
    }

    @Test
    void withAnApiKeyItTalksToTheConfiguredEndpoint() {
        try (FakeGeminiServer server = FakeGeminiServer.start()) {
            Map<String, String> env = Map.of("GEMINI_API_KEY", "gemini-key-from-env",
                    "GOOGLE_GEMINI_BASE_URL", server.rootUrl(), "SAMPLE_MODEL", "gemini-2.0-flash");
            int status = SampleApp.run(new String[] {"--provider", "gemini", "--tickets", "3"}, env, out, err);

            assertEquals(0, status, errText());
            List<RecordedRequest> requests = server.requests();
            assertEquals(3, requests.size());
            assertTrue(requests.get(1).path().endsWith("/models/gemini-2.0-flash:streamGenerateContent"),
                    requests.get(1).path());
            assertEquals("gemini-key-from-env", requests.get(0).header("x-goog-api-key"));
            List<String> lines = outLines();
            assertEquals(5, lines.size(), String.join("\n", lines));
            assertEquals("Using the Gemini API at " + server.rootUrl() + " with model gemini-2.0-flash.", lines.get(0));
            long reported = 0;
            for (int i = 0; i < 3; i++) {
                StubUsage usage = requests.get(i).usage();
                assertEquals(0, usage.reasoningTokens(), "gemini-2.0 does not think");
                assertTrue(lines.get(i + 1).contains(usage.totalTokens() + " tokens (" + usage.inputTokens() + " in, "
                        + usage.outputTokens() + " out)"), lines.get(i + 1) + " vs " + usage);
                reported += usage.totalTokens();
            }
            assertEquals(server.totalTokens(), reported);
            assertEquals("Summarized 3 tickets; the responses reported " + reported + " tokens.", lines.get(4));
            assertFalse(outBytes.toString(StandardCharsets.UTF_8).contains("gemini-key-from-env"));
        }
    }

    @Test
    void googleApiKeyWinsOverGeminiApiKeyAsInTheSdk() {
        try (FakeGeminiServer server = FakeGeminiServer.start()) {
            Map<String, String> env = Map.of("GEMINI_API_KEY", "gemini-key-from-env",
                    "GOOGLE_API_KEY", "google-key-from-env", "GOOGLE_GEMINI_BASE_URL", server.rootUrl());
            assertEquals(0, SampleApp.run(new String[] {"--provider", "gemini", "--tickets", "1"}, env, out, err),
                    errText());
            assertEquals(1, server.requestCount());
            assertEquals("google-key-from-env", server.lastRequest().header("x-goog-api-key"));
        }
    }

    @Test
    void aGeminiFailureStopsTheRunWithStatusOne() {
        try (FakeGeminiServer server = FakeGeminiServer.start()) {
            server.setFailNext(400);
            int status = SampleApp.run(new String[] {"--provider", "gemini"}, Map.of("GEMINI_API_KEY",
                    "gemini-key-from-env", "GOOGLE_GEMINI_BASE_URL", server.rootUrl()), out, err);

            assertEquals(1, status);
            assertTrue(errText().startsWith("T-1001 failed: com.google.genai.errors.ClientException: "), errText());
            assertFalse(errText().contains("gemini-key-from-env"), "the key is never printed");
            assertEquals(1, server.requestCount(), "no further ticket is tried");
        }
    }

    private List<String> outLines() {
        return outBytes.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private String errText() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }
}
