package dev.tokenguard.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.azure.ai.openai.OpenAIClient;
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

/**
 * The Azure OpenAI summarizer on the real azure-ai-openai against the fake OpenAI server's Azure paths, without
 * any agent: the server's ledger is the oracle of what was sent and of the tokens each summary must show.
 */
class AzureOpenAiSummarizerTest {

    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    @Test
    void chatsAndStreamsOnTheDeploymentAndShowsTheReportedTokens() {
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            OpenAIClient client = SampleApp.azureClient(server.azureEndpoint(), "azure-test-key-1234");
            AzureOpenAiSummarizer summarizer = new AzureOpenAiSummarizer(client, "tickets-gpt-4o-mini");
            List<Summary> summaries = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                summaries.add(summarizer.summarize(i, Ticket.ALL.get(i)));
            }

            List<RecordedRequest> requests = server.requests();
            assertEquals(4, requests.size());
            for (RecordedRequest request : requests) {
                assertEquals("/openai/deployments/tickets-gpt-4o-mini/chat/completions", request.path());
                assertTrue(request.query().contains("api-version="), request.query());
                assertEquals("azure-test-key-1234", request.header("api-key"), "the key goes as the api-key header");
                assertTrue(request.body().contains("\"max_tokens\":256"), request.body());
                assertTrue(request.body().contains(SampleApp.Summarizer.INSTRUCTIONS), request.body());
            }
            assertEquals(List.of(false, true, false, false), requests.stream().map(RecordedRequest::streaming).toList());
            assertFalse(requests.get(1).body().contains("stream_options"), "the app does not ask for stream usage");

            assertEquals(List.of("chat", "chat-stream", "chat", "chat"), summaries.stream().map(Summary::method).toList());
            for (int i = 0; i < 4; i++) {
                Summary summary = summaries.get(i);
                StubUsage usage = requests.get(i).usage();
                assertTrue(summary.text().startsWith(BedrockSummarizerTest.firstWords(Ticket.ALL.get(i))),
                        summary.text());
                assertTrue(summary.text().endsWith("."), "the whole answer, every chunk of a stream: " + summary.text());
                if (i == 1) {
                    assertNull(summary.inputTokens(), "a stream without stream_options carries no usage");
                    assertFalse(requests.get(i).usageReported());
                } else {
                    assertEquals(usage.inputTokens(), summary.inputTokens(), summary + " vs " + usage);
                    assertEquals(usage.outputTokens(), summary.outputTokens(), summary + " vs " + usage);
                }
            }
        }
    }

    @Test
    void withAnEndpointAndAKeyItTalksToThatResource() {
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            Map<String, String> env = Map.of("AZURE_OPENAI_ENDPOINT", server.azureEndpoint(),
                    "AZURE_OPENAI_API_KEY", "azure-key-from-env", "SAMPLE_MODEL", "support-summaries");
            int status = SampleApp.run(new String[] {"--provider=azure", "--tickets=3"}, env, out, err);

            assertEquals(0, status, errText());
            List<RecordedRequest> requests = server.requests();
            assertEquals(3, requests.size());
            assertTrue(requests.stream().allMatch(r -> r.path().equals(
                    "/openai/deployments/support-summaries/chat/completions")));
            assertEquals("azure-key-from-env", requests.get(0).header("api-key"));
            List<String> lines = outLines();
            assertEquals(5, lines.size(), String.join("\n", lines));
            assertEquals("Using Azure OpenAI at " + server.azureEndpoint() + " with deployment support-summaries.",
                    lines.get(0));
            assertTrue(lines.get(2).startsWith("T-1002  chat-stream  usage not reported"), lines.get(2));
            StubUsage first = requests.get(0).usage();
            assertTrue(lines.get(1).startsWith("T-1001  chat         " + first.totalTokens() + " tokens ("
                    + first.inputTokens() + " in, " + first.outputTokens() + " out)"), lines.get(1));
            long reported = first.totalTokens() + requests.get(2).usage().totalTokens();
            assertEquals("Summarized 3 tickets; the responses reported " + reported + " tokens.", lines.get(4));
            assertFalse(outBytes.toString(StandardCharsets.UTF_8).contains("azure-key-from-env"));
        }
    }

    @Test
    void anEndpointWithoutAKeyIsNotEnoughForTheRealService() {
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            int status = SampleApp.run(new String[] {"--provider", "azure", "--tickets", "1"},
                    Map.of("AZURE_OPENAI_ENDPOINT", server.azureEndpoint()), out, err);

            assertEquals(0, status, errText());
            assertEquals(0, server.requestCount(), "the embedded stub answered instead");
            assertTrue(outLines().get(0).startsWith("AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY are not both set:"
                    + " using the offline Azure OpenAI stub at http://127.0.0.1:"), outLines().get(0));
        }
    }

    @Test
    void anAzureFailureStopsTheRunWithStatusOne() {
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            server.setFailNext(400);
            int status = SampleApp.run(new String[] {"--provider", "azure"}, Map.of("AZURE_OPENAI_ENDPOINT",
                    server.azureEndpoint(), "AZURE_OPENAI_API_KEY", "azure-key-from-env"), out, err);

            assertEquals(1, status);
            assertTrue(errText().startsWith("T-1001 failed: com.azure.core.exception.HttpResponseException: "),
                    errText());
            assertFalse(errText().contains("azure-key-from-env"), "the key is never printed");
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
