package dev.tokenguard.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tokenguard.sample.stub.FakeOllamaServer;
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
 * The Ollama summarizer on the real ollama4j against the fake Ollama server, without any agent: the server's
 * ledger is the oracle of what was sent and of the tokens each summary must show.
 */
class OllamaSummarizerTest {

    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    @Test
    void chatsStreamsAndGeneratesAndShowsTheCountsOfTheLastObject() {
        try (FakeOllamaServer server = FakeOllamaServer.start()) {
            OllamaSummarizer summarizer = new OllamaSummarizer(SampleApp.ollamaClient(server.baseUrl()),
                    SampleApp.DEFAULT_OLLAMA_MODEL);
            List<Summary> summaries = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                summaries.add(summarizer.summarize(i, Ticket.ALL.get(i)));
            }

            List<RecordedRequest> requests = server.requests();
            assertEquals(4, requests.size());
            assertEquals(List.of("/api/chat", "/api/chat", "/api/generate", "/api/chat"),
                    requests.stream().map(RecordedRequest::path).toList());
            assertEquals(List.of(false, true, false, false), requests.stream().map(RecordedRequest::streaming).toList());
            for (RecordedRequest request : requests) {
                assertTrue(request.body().contains("\"model\":\"llama3.2\""), request.body());
                assertTrue(request.body().contains("\"num_predict\":256"), request.body());
                assertTrue(request.body().contains(SampleApp.Summarizer.INSTRUCTIONS), request.body());
            }

            assertEquals(List.of("chat", "chat-stream", "generate", "chat"),
                    summaries.stream().map(Summary::method).toList());
            for (int i = 0; i < 4; i++) {
                Summary summary = summaries.get(i);
                StubUsage usage = requests.get(i).usage();
                assertEquals(usage.inputTokens(), summary.inputTokens(), summary + " vs " + usage);
                assertEquals(usage.outputTokens(), summary.outputTokens(), summary + " vs " + usage);
                assertTrue(summary.text().startsWith(BedrockSummarizerTest.firstWords(Ticket.ALL.get(i))),
                        summary.text());
                assertTrue(summary.text().endsWith("."), "the whole answer, every piece of a stream: " + summary.text());
            }
        }
    }

    @Test
    void withOllamaHostItTalksToThatServer() {
        try (FakeOllamaServer server = FakeOllamaServer.start()) {
            // as the Ollama CLI takes it: host:port, no scheme
            Map<String, String> env = Map.of("OLLAMA_HOST", "127.0.0.1:" + server.port(), "SAMPLE_MODEL", "qwen3:4b");
            int status = SampleApp.run(new String[] {"--provider", "ollama", "--tickets", "3"}, env, out, err);

            assertEquals(0, status, errText());
            List<RecordedRequest> requests = server.requests();
            assertEquals(3, requests.size());
            assertTrue(requests.stream().allMatch(r -> r.body().contains("\"model\":\"qwen3:4b\"")));
            List<String> lines = outLines();
            assertEquals(5, lines.size(), String.join("\n", lines));
            assertEquals("Using Ollama at " + server.baseUrl() + " with model qwen3:4b.", lines.get(0));
            long reported = 0;
            for (int i = 0; i < 3; i++) {
                StubUsage usage = requests.get(i).usage();
                assertTrue(lines.get(i + 1).contains(usage.totalTokens() + " tokens (" + usage.inputTokens() + " in, "
                        + usage.outputTokens() + " out)"), lines.get(i + 1) + " vs " + usage);
                reported += usage.totalTokens();
            }
            assertEquals(server.totalTokens(), reported);
            assertEquals("Summarized 3 tickets; the responses reported " + reported + " tokens.", lines.get(4));
        }
    }

    @Test
    void ollamaHostIsReadAsTheOllamaCliReadsIt() {
        assertEquals("http://localhost:11434", SampleApp.ollamaUrl("localhost"));
        assertEquals("http://10.0.0.5:8080", SampleApp.ollamaUrl("10.0.0.5:8080"));
        assertEquals("http://gpu-box:11434/ollama", SampleApp.ollamaUrl("gpu-box/ollama"));
        assertEquals("http://[::1]:11434", SampleApp.ollamaUrl("[::1]"));
        assertEquals("http://[::1]:9000", SampleApp.ollamaUrl("[::1]:9000"));
        assertEquals("https://ollama.example.com", SampleApp.ollamaUrl("https://ollama.example.com"));
    }

    @Test
    void anOllamaFailureStopsTheRunWithStatusOne() {
        try (FakeOllamaServer server = FakeOllamaServer.start()) {
            server.setFailNext(400);
            int status = SampleApp.run(new String[] {"--provider", "ollama"}, Map.of("OLLAMA_HOST", server.baseUrl()),
                    out, err);

            assertEquals(1, status);
            assertTrue(errText().startsWith("T-1001 failed: java.lang.IllegalStateException: Ollama call failed: "),
                    errText());
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
