package dev.tokenguard.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tokenguard.sample.stub.FakeBedrockServer;
import dev.tokenguard.sample.stub.RecordedRequest;
import dev.tokenguard.sample.stub.StubUsage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.bedrockruntime.BedrockRuntimeClient;

/**
 * The Bedrock summarizer on the real AWS SDK against the fake Bedrock server, without any agent: the server's
 * ledger is the oracle of what was sent and of the tokens each summary must show.
 */
class BedrockSummarizerTest {

    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    @Test
    void conversesAndInvokesTheClaudeModelAndShowsTheTokensBedrockReported() {
        try (FakeBedrockServer server = FakeBedrockServer.start();
             BedrockRuntimeClient client = SampleApp.bedrockClient(URI.create(server.baseUrl()), Region.US_EAST_1,
                     StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDSAMPLETEST000001", "secret")))) {
            server.setCacheTokens(30, 6);
            BedrockSummarizer summarizer = new BedrockSummarizer(client, SampleApp.DEFAULT_BEDROCK_MODEL);
            List<Summary> summaries = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                summaries.add(summarizer.summarize(i, Ticket.ALL.get(i)));
            }

            List<RecordedRequest> requests = server.requests();
            assertEquals(4, requests.size());
            String model = "/model/" + SampleApp.DEFAULT_BEDROCK_MODEL + "/";
            assertEquals(List.of(model + "converse", model + "invoke", model + "converse", model + "converse"),
                    requests.stream().map(RecordedRequest::path).toList());
            assertTrue(requests.get(0).body().contains("\"maxTokens\":256"), requests.get(0).body());
            assertTrue(requests.get(0).body().contains(SampleApp.Summarizer.INSTRUCTIONS), requests.get(0).body());
            assertTrue(requests.get(1).body().contains("\"anthropic_version\":\"bedrock-2023-05-31\""),
                    requests.get(1).body());
            assertTrue(requests.get(1).body().contains("\"max_tokens\":256"), requests.get(1).body());
            assertTrue(requests.get(0).header("authorization").startsWith(
                    "AWS4-HMAC-SHA256 Credential=AKIDSAMPLETEST000001/"), "signed with the given credentials");

            assertEquals(List.of("converse", "invoke", "converse", "converse"),
                    summaries.stream().map(Summary::method).toList());
            for (int i = 0; i < 4; i++) {
                StubUsage usage = requests.get(i).usage();
                Summary summary = summaries.get(i);
                // Converse reports cache reads and writes apart; the summary's input is the whole prompt
                assertEquals(usage.inputTokens(), summary.inputTokens(), summary + " vs " + usage);
                assertEquals(usage.outputTokens(), summary.outputTokens(), summary + " vs " + usage);
                assertTrue(summary.text().startsWith(firstWords(Ticket.ALL.get(i))), summary.text());
            }
            assertEquals(36, requests.get(0).usage().cachedTokens() + requests.get(0).usage().cacheWriteTokens());
            assertEquals(0, requests.get(1).usage().cachedTokens(), "invokeModel reports no cache figures");
        }
    }

    @Test
    void aModelOtherThanClaudeIsOnlyConversedWith() {
        assertTrue(BedrockSummarizer.isClaude("anthropic.claude-3-haiku-20240307-v1:0"));
        assertTrue(BedrockSummarizer.isClaude("us.anthropic.claude-sonnet-4-20250514-v1:0"));
        assertFalse(BedrockSummarizer.isClaude("amazon.nova-lite-v1:0"));
        try (FakeBedrockServer server = FakeBedrockServer.start();
             BedrockRuntimeClient client = SampleApp.bedrockClient(URI.create(server.baseUrl()), Region.US_EAST_1,
                     StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDSAMPLETEST000001", "secret")))) {
            BedrockSummarizer summarizer = new BedrockSummarizer(client, "amazon.nova-lite-v1:0");
            assertEquals("converse", summarizer.summarize(1, Ticket.ALL.get(1)).method());
            assertEquals(List.of("/model/amazon.nova-lite-v1:0/converse"),
                    server.requests().stream().map(RecordedRequest::path).toList());
        }
    }

    @Test
    void withARegionItTalksToTheConfiguredEndpointWithTheGivenCredentials() {
        try (FakeBedrockServer server = FakeBedrockServer.start()) {
            Map<String, String> env = Map.of("AWS_REGION", "eu-west-1",
                    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.baseUrl(), "AWS_ACCESS_KEY_ID", "AKIDFROMENVIRONMENT1",
                    "AWS_SECRET_ACCESS_KEY", "secret-from-env", "AWS_SESSION_TOKEN", "session-token-from-env",
                    "SAMPLE_MODEL", "us.anthropic.claude-3-5-haiku-20241022-v1:0");
            int status = SampleApp.run(new String[] {"--provider", "bedrock", "--tickets", "3"}, env, out, err);

            assertEquals(0, status, errText());
            List<RecordedRequest> requests = server.requests();
            assertEquals(3, requests.size());
            assertEquals("/model/us.anthropic.claude-3-5-haiku-20241022-v1:0/invoke", requests.get(1).path());
            String authorization = requests.get(0).header("authorization");
            assertTrue(authorization.startsWith("AWS4-HMAC-SHA256 Credential=AKIDFROMENVIRONMENT1/"), authorization);
            assertTrue(authorization.contains("/eu-west-1/bedrock/aws4_request"), authorization);
            assertEquals("session-token-from-env", requests.get(0).header("x-amz-security-token"));

            List<String> lines = outLines();
            assertEquals(5, lines.size(), String.join("\n", lines));
            assertEquals("Using Amazon Bedrock in eu-west-1 at " + server.baseUrl()
                    + " with model us.anthropic.claude-3-5-haiku-20241022-v1:0.", lines.get(0));
            long reported = 0;
            for (int i = 0; i < 3; i++) {
                StubUsage usage = requests.get(i).usage();
                assertTrue(lines.get(i + 1).contains(usage.totalTokens() + " tokens (" + usage.inputTokens() + " in, "
                        + usage.outputTokens() + " out)"), lines.get(i + 1) + " vs " + usage);
                reported += usage.totalTokens();
            }
            assertEquals(server.totalTokens(), reported);
            assertEquals("Summarized 3 tickets; the responses reported " + reported + " tokens.", lines.get(4));
            assertFalse(outBytes.toString(StandardCharsets.UTF_8).contains("secret-from-env"));
        }
    }

    @Test
    void aBedrockFailureStopsTheRunWithStatusOne() {
        try (FakeBedrockServer server = FakeBedrockServer.start()) {
            server.setFailNext(400);
            int status = SampleApp.run(new String[] {"--provider", "bedrock"}, Map.of("AWS_REGION", "us-east-1",
                    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.baseUrl(), "AWS_ACCESS_KEY_ID", "AKIDFROMENVIRONMENT1",
                    "AWS_SECRET_ACCESS_KEY", "secret-from-env"), out, err);

            assertEquals(1, status);
            assertTrue(errText().startsWith("T-1001 failed: software.amazon.awssdk.services.bedrockruntime.model."
                    + "ValidationException: "), errText());
            assertFalse(errText().contains("secret-from-env"), "the key is never printed");
            assertEquals(1, server.requestCount(), "no further ticket is tried");
        }
    }

    static String firstWords(Ticket ticket) {
        return String.join(" ", List.of(ticket.text().split(" ")).subList(0, 5));
    }

    private List<String> outLines() {
        return outBytes.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private String errText() {
        return errBytes.toString(StandardCharsets.UTF_8);
    }
}
