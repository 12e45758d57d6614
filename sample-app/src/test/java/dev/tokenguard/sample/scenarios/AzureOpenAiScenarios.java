package dev.tokenguard.sample.scenarios;

import com.azure.ai.openai.OpenAIAsyncClient;
import com.azure.ai.openai.OpenAIClient;
import com.azure.ai.openai.OpenAIClientBuilder;
import com.azure.ai.openai.models.ChatCompletions;
import com.azure.ai.openai.models.ChatCompletionsOptions;
import com.azure.ai.openai.models.CompletionsUsage;
import com.azure.ai.openai.models.Embeddings;
import com.azure.ai.openai.models.EmbeddingsOptions;
import com.azure.core.http.HttpHeaders;
import com.azure.core.http.jdk.httpclient.JdkHttpClientBuilder;
import com.azure.core.http.netty.NettyAsyncHttpClientBuilder;
import com.azure.core.http.policy.AddHeadersPolicy;
import com.azure.core.http.policy.FixedDelay;
import com.azure.core.http.policy.RetryPolicy;
import com.azure.core.util.BinaryData;

import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/**
 * The Azure OpenAI scenarios ({@code com.azure:azure-ai-openai}), written once against the API every 1.0.0 beta
 * shares, so that the same code runs on the oldest and the newest: the request options are read from their JSON
 * (the message classes were renamed between betas), and only the usage and the number of chunks are read back.
 * Each call prints one line, {@code OK ...} or {@code REFUSED ...} (see {@link ScenarioRunner}).
 *
 * <p>The client runs on azure-core's Netty transport, named (both transports are on the test class path), or, in
 * {@code all-on-jdk-http-client}, on the JDK's HttpClient, which TokenGuard's HTTP layer also instruments; that
 * scenario also sends a request of the app's own on the JDK client. azure-core sends a key credential over HTTPS
 * only, and the fake server speaks plain HTTP on loopback, so the key goes as the {@code api-key} header the
 * credential would have set.
 */
public final class AzureOpenAiScenarios {
    public static final String DEPLOYMENT = "gpt-4o-mini";
    public static final String API_KEY = "azure-forked-secret-key-4711";

    private AzureOpenAiScenarios() {
    }

    /** Runs {@code scenario} against the Azure endpoint {@code endpoint}: up to {@code calls} calls. */
    public static void run(String scenario, String endpoint, int calls, PrintStream out) throws Exception {
        boolean jdk = scenario.equals("all-on-jdk-http-client");
        OpenAIClientBuilder builder = new OpenAIClientBuilder().endpoint(endpoint)
                .httpClient(jdk ? new JdkHttpClientBuilder().build() : new NettyAsyncHttpClientBuilder().build())
                .addPolicy(new AddHeadersPolicy(new HttpHeaders().set("api-key", API_KEY)))
                .retryPolicy(new RetryPolicy(new FixedDelay(0, Duration.ZERO)));
        OpenAIClient client = builder.buildClient();
        OpenAIAsyncClient async = builder.buildAsyncClient();
        ScenarioRunner runner = new ScenarioRunner(out);
        switch (scenario) {
            case "sync" -> runner.repeat(calls, i -> counts(client.getChatCompletions(DEPLOYMENT, options(i))));
            case "async" -> runner.repeat(calls, i -> counts(async.getChatCompletions(DEPLOYMENT, options(i)).block()));
            case "stream" -> runner.repeat(calls, i -> chunks(client.getChatCompletionsStream(DEPLOYMENT, options(i))));
            case "async-stream" -> runner.repeat(calls, i -> chunks(
                    async.getChatCompletionsStream(DEPLOYMENT, options(i)).collectList().block()));
            case "embeddings" -> runner.repeat(calls, i -> embeddings(i % 2 == 0
                    ? client.getEmbeddings(DEPLOYMENT, embeddingsOptions(i))
                    : async.getEmbeddings(DEPLOYMENT, embeddingsOptions(i)).block()));
            case "all-on-jdk-http-client" -> runner.repeat(calls, i -> {
                String sync = counts(client.getChatCompletions(DEPLOYMENT, options(i)));
                String stream = chunks(client.getChatCompletionsStream(DEPLOYMENT, options(i)));
                String asyncCall = counts(async.getChatCompletions(DEPLOYMENT, options(i)).block());
                String asyncStream = chunks(async.getChatCompletionsStream(DEPLOYMENT, options(i)).collectList()
                        .block());
                String vectors = embeddings(async.getEmbeddings(DEPLOYMENT, embeddingsOptions(i)).block());
                return sync + " | " + stream + " | " + asyncCall + " | " + asyncStream + " | " + vectors + " | "
                        + ownRequest(endpoint, i);
            });
            default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        }
    }

    /** A chat request the app sends itself, on the JDK's HttpClient, to the same deployment. */
    static String ownRequest(String endpoint, int i) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(endpoint + "/openai/deployments/" + DEPLOYMENT
                        + "/chat/completions?api-version=2024-10-21"))
                .header("api-key", API_KEY).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"messages\":[{\"role\":\"user\",\"content\":"
                        + "\"Ticket " + i + " sent by hand\"}]}"))
                .build();
        HttpResponse<String> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
        return "own=" + response.statusCode();
    }

    static ChatCompletionsOptions options(int i) {
        String ticket = "Ticket " + i + ": the badge reader at door " + (i % 5) + " rejects every badge "
                + "y".repeat(i % 11 * 4);
        String json = "{\"messages\":[{\"role\":\"system\",\"content\":\"You summarise support tickets in one"
                + " sentence.\"},{\"role\":\"user\",\"content\":\"" + ticket + "\"}],\"max_tokens\":256}";
        return BinaryData.fromString(json).toObject(ChatCompletionsOptions.class);
    }

    static EmbeddingsOptions embeddingsOptions(int i) {
        return new EmbeddingsOptions(List.of("Ticket " + i + ": the printer on floor " + (i % 7) + " jams"));
    }

    static String counts(ChatCompletions completions) {
        CompletionsUsage usage = completions.getUsage();
        return usage.getPromptTokens() + " " + usage.getCompletionTokens();
    }

    /** The chunks the app saw, and how many of them carried usage (none unless the app asked for it). */
    static String chunks(Iterable<ChatCompletions> stream) {
        int chunks = 0;
        int withUsage = 0;
        for (ChatCompletions chunk : stream) {
            chunks++;
            if (chunk.getUsage() != null) {
                withUsage++;
            }
        }
        return "- - chunks=" + chunks + " withUsage=" + withUsage;
    }

    static String embeddings(Embeddings embeddings) {
        return embeddings.getUsage().getPromptTokens() + " 0 vectors=" + embeddings.getData().size();
    }
}
