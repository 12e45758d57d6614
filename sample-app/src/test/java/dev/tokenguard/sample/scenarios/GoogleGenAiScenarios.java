package dev.tokenguard.sample.scenarios;

import com.google.genai.Client;
import com.google.genai.ResponseStream;
import com.google.genai.types.Content;
import com.google.genai.types.CountTokensResponse;
import com.google.genai.types.EmbedContentResponse;
import com.google.genai.types.GenerateContentConfig;
import com.google.genai.types.GenerateContentResponse;
import com.google.genai.types.GenerateContentResponseUsageMetadata;
import com.google.genai.types.HttpOptions;
import com.google.genai.types.HttpRetryOptions;
import com.google.genai.types.Part;
import com.google.genai.types.Tool;

import java.io.PrintStream;
import java.util.List;

/**
 * The Google GenAI SDK scenarios ({@code com.google.genai:google-genai}), written against the API the oldest and
 * the newest supported versions share. Each call prints one line, {@code OK ...} or {@code REFUSED ...} (see
 * {@link ScenarioRunner}); {@code OK} lines give the usage the app saw, {@code <input> <output>}.
 *
 * <p>The client talks to the fake Gemini server at {@code baseUrl} with an API key, on the Gemini API or, for
 * {@code vertex}, on Vertex AI in its API-key mode; the SDK's own retries are off.
 */
public final class GoogleGenAiScenarios {
    public static final String MODEL = "gemini-2.5-flash";
    public static final String EMBEDDING_MODEL = "gemini-embedding-001";
    public static final String API_KEY = "gemini-forked-secret-key-4711";

    private GoogleGenAiScenarios() {
    }

    /**
     * Runs {@code scenario} against the server at {@code baseUrl}: up to {@code calls} calls. {@code sync},
     * {@code async}, {@code stream} and {@code async-stream} generate; {@code embeddings} alternates the blocking and
     * the async client; {@code afc} lets the SDK call a Java function (two requests per call); {@code count-tokens}
     * only counts; {@code vertex} generates and streams on Vertex AI; {@code mixed} runs every kind of call in turn.
     */
    public static void run(String scenario, String baseUrl, int calls, PrintStream out) throws Exception {
        try (Client client = client(baseUrl, false); Client vertex = client(baseUrl, true)) {
            ScenarioRunner runner = new ScenarioRunner(out);
            switch (scenario) {
                case "sync" -> runner.repeat(calls, i -> counts(client.models.generateContent(MODEL, ticket(i),
                        config())));
                case "async" -> runner.repeat(calls, i -> counts(client.async.models.generateContent(MODEL,
                        ticket(i), config()).get()));
                case "stream" -> runner.repeat(calls, i -> chunks(client.models.generateContentStream(MODEL,
                        ticket(i), config())));
                case "async-stream" -> runner.repeat(calls, i -> chunks(client.async.models.generateContentStream(
                        MODEL, ticket(i), config()).get()));
                case "embeddings" -> runner.repeat(calls, i -> embeddings(i % 2 == 0
                        ? client.models.embedContent(EMBEDDING_MODEL, ticket(i), null)
                        : client.async.models.embedContent(EMBEDDING_MODEL, List.of(ticket(i), ticket(i + 1)), null)
                        .get()));
                case "afc" -> runner.repeat(calls, i -> counts(i % 2 == 0
                        ? client.models.generateContent(MODEL, ticket(i), withTool())
                        : client.async.models.generateContent(MODEL, ticket(i), withTool()).get()));
                case "count-tokens" -> runner.repeat(calls, i -> counted(i % 2 == 0
                        ? client.models.countTokens(MODEL, ticket(i), null)
                        : client.async.models.countTokens(MODEL, ticket(i), null).get()));
                case "vertex" -> runner.repeat(calls, i -> i % 2 == 0
                        ? counts(vertex.models.generateContent(MODEL, ticket(i), config()))
                        : chunks(vertex.models.generateContentStream(MODEL, ticket(i), config())));
                case "mixed" -> runner.repeat(calls, i -> switch (i % 6) {
                    case 0 -> counts(client.models.generateContent(MODEL, ticket(i), config()));
                    case 1 -> counts(client.async.models.generateContent(MODEL, ticket(i), config()).get());
                    case 2 -> chunks(client.models.generateContentStream(MODEL, ticket(i), config()));
                    case 3 -> chunks(client.async.models.generateContentStream(MODEL, ticket(i), config()).get());
                    case 4 -> embeddings(client.async.models.embedContent(EMBEDDING_MODEL, ticket(i), null).get());
                    default -> counted(client.models.countTokens(MODEL, ticket(i), null));
                });
                default -> throw new IllegalArgumentException("unknown scenario " + scenario);
            }
        }
    }

    static Client client(String baseUrl, boolean vertex) {
        return Client.builder().apiKey(API_KEY).vertexAI(vertex).httpOptions(HttpOptions.builder().baseUrl(baseUrl)
                .retryOptions(HttpRetryOptions.builder().attempts(1).build()).build()).build();
    }

    static String ticket(int i) {
        return "Ticket " + i + ": the badge reader at door " + (i % 5) + " rejects every badge " + "y".repeat(i % 11 * 4);
    }

    static GenerateContentConfig config() {
        return GenerateContentConfig.builder().maxOutputTokens(256)
                .systemInstruction(Content.fromParts(Part.fromText("You summarise support tickets in one sentence.")))
                .build();
    }

    static GenerateContentConfig withTool() throws NoSuchMethodException {
        return config().toBuilder().tools(Tool.builder()
                .functions(GoogleGenAiScenarios.class.getMethod("openTicketCount")).build()).build();
    }

    /** The function the model calls in {@code afc}; without parameters, so no parameter names are needed. */
    public static String openTicketCount() {
        return "7 open tickets";
    }

    static String counts(GenerateContentResponse response) {
        GenerateContentResponseUsageMetadata usage = response.usageMetadata().orElseThrow();
        return usage.promptTokenCount().orElse(0) + " "
                + (usage.totalTokenCount().orElse(0) - usage.promptTokenCount().orElse(0));
    }

    /** The chunks the app saw and the usage of the last one, which holds the totals. */
    static String chunks(ResponseStream<GenerateContentResponse> stream) {
        int chunks = 0;
        String last = "- -";
        try (stream) {
            for (GenerateContentResponse chunk : stream) {
                chunks++;
                if (chunk.usageMetadata().isPresent()) {
                    last = counts(chunk);
                }
            }
        }
        return last + " chunks=" + chunks;
    }

    static String embeddings(EmbedContentResponse response) {
        return "- 0 vectors=" + response.embeddings().orElseThrow().size();
    }

    static String counted(CountTokensResponse response) {
        return "counted=" + response.totalTokens().orElseThrow();
    }
}
