package dev.tokenguard.sample.scenarios;

import io.github.ollama4j.Ollama;
import io.github.ollama4j.models.chat.OllamaChatMessageRole;
import io.github.ollama4j.models.chat.OllamaChatRequest;
import io.github.ollama4j.models.chat.OllamaChatResult;
import io.github.ollama4j.models.embed.OllamaEmbedRequestBuilder;
import io.github.ollama4j.models.embed.OllamaEmbedResult;
import io.github.ollama4j.models.generate.OllamaGenerateRequest;
import io.github.ollama4j.models.response.OllamaResult;
import io.github.ollama4j.tools.Tools;

import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The ollama4j scenarios ({@code io.github.ollama4j:ollama4j}), written once against the API that every release
 * with the {@code Ollama} client shares (1.1.2 on; the thinking switches changed type since, so none is set), so
 * that the same code runs on the oldest and the newest. Each call prints one line, {@code OK ...} or
 * {@code REFUSED ...} (see {@link ScenarioRunner}).
 *
 * <ul>
 *   <li>{@code chat}: one chat request per call;</li>
 *   <li>{@code stream}: one chat per call, streamed to a token handler;</li>
 *   <li>{@code all}: per call a chat, a streamed chat, a generate, an embeddings request, a chat with a tool
 *       (two requests: the tool call, then the answer) and a chat the app sends itself on the JDK's
 *       {@code HttpClient}: seven requests;</li>
 *   <li>{@code all-but-tools}: the same without the chat with a tool, five requests: 1.1.2's tool call type has no
 *       {@code id}, which the fake server's tool calls carry, and its mapper fails on a field it does not know.</li>
 * </ul>
 */
public final class Ollama4jScenarios {
    public static final String MODEL = "llama3.2";
    public static final String EMBED_MODEL = "all-minilm";
    /** Requests per call of {@code all}. */
    public static final int REQUESTS_PER_ALL = 7;
    /** Requests per call of {@code all-but-tools}. */
    public static final int REQUESTS_PER_ALL_BUT_TOOLS = 5;

    private Ollama4jScenarios() {
    }

    /** Runs {@code scenario} against the Ollama server at {@code baseUrl}: up to {@code calls} calls. */
    public static void run(String scenario, String baseUrl, int calls, PrintStream out) throws Exception {
        Ollama ollama = new Ollama(baseUrl);
        ScenarioRunner runner = new ScenarioRunner(out);
        switch (scenario) {
            case "chat" -> runner.repeat(calls, i -> chat(ollama, i));
            case "stream" -> runner.repeat(calls, i -> stream(ollama, i));
            case "all", "all-but-tools" -> {
                boolean tools = scenario.equals("all");
                HttpClient http = HttpClient.newHttpClient();
                runner.repeat(calls, i -> String.join(" | ", chat(ollama, i), stream(ollama, i), generate(ollama, i),
                        embed(ollama, i), tools ? tools(ollama, i) : "no tools", ownRequest(http, baseUrl, i)));
            }
            default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        }
    }

    static OllamaChatRequest request(int i) {
        return OllamaChatRequest.builder().withModel(MODEL)
                .withMessage(OllamaChatMessageRole.SYSTEM, "You summarise support tickets in one sentence.")
                .withMessage(OllamaChatMessageRole.USER, "Ticket " + i + ": the badge reader at door " + (i % 5)
                        + " rejects every badge " + "y".repeat(i % 11 * 4))
                .withTools(new ArrayList<>()) // 1.1.2 adds the registered tools to the request's list: it must be one
                .build();
    }

    static String chat(Ollama ollama, int i) throws Exception {
        OllamaChatResult result = ollama.chat(request(i), null);
        return result.getResponseModel().getPromptEvalCount() + " " + result.getResponseModel().getEvalCount();
    }

    static String stream(Ollama ollama, int i) throws Exception {
        AtomicInteger pieces = new AtomicInteger();
        ollama.chat(request(i), part -> pieces.incrementAndGet());
        return "- - pieces=" + pieces.get();
    }

    static String generate(Ollama ollama, int i) throws Exception {
        OllamaResult result = ollama.generate(OllamaGenerateRequest.builder().withModel(MODEL)
                .withPrompt("Summarise ticket " + i + ": the coffee machine on floor " + (i % 7) + " is empty")
                .build(), null);
        return result.getPromptEvalCount() + " " + result.getEvalCount();
    }

    static String embed(Ollama ollama, int i) throws Exception {
        OllamaEmbedResult result = ollama.embed(OllamaEmbedRequestBuilder.getInstance(EMBED_MODEL,
                "ticket " + i, "the printer on floor " + (i % 3) + " jams").build());
        return result.getPromptEvalCount() + " 0 embeddings=" + result.getEmbeddings().size();
    }

    /** A chat whose model first calls the app's tool: ollama4j runs it and asks again, two requests in one call. */
    static String tools(Ollama ollama, int i) throws Exception {
        AtomicInteger invoked = new AtomicInteger();
        Tools.Tool priority = Tools.Tool.builder()
                .toolSpec(Tools.ToolSpec.builder().name("ticket_priority")
                        .description("Looks up the priority of a support ticket")
                        .parameters(Tools.Parameters.of(Map.of("ticket", Tools.Property.builder().type("string")
                                .description("the ticket's number").required(true).build())))
                        .build())
                .toolFunction(arguments -> {
                    invoked.incrementAndGet();
                    return "high";
                })
                .build();
        OllamaChatRequest request = OllamaChatRequest.builder().withModel(MODEL)
                .withMessage(OllamaChatMessageRole.USER, "How urgent is ticket " + i + "?")
                .withTools(new ArrayList<>(List.of(priority))).build();
        request.setUseTools(true);
        OllamaChatResult result = ollama.chat(request, null);
        return result.getResponseModel().getPromptEvalCount() + " " + result.getResponseModel().getEvalCount()
                + " toolRuns=" + invoked.get();
    }

    /** A chat request the app sends itself, on the JDK's HttpClient: not ollama4j's, so the HTTP layer's. */
    static String ownRequest(HttpClient http, String baseUrl, int i) throws Exception {
        String body = "{\"model\":\"" + MODEL + "\",\"stream\":false,\"messages\":[{\"role\":\"user\",\"content\":"
                + "\"Own request " + i + "\"}]}";
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(baseUrl + "/api/chat"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        return "own=" + response.statusCode();
    }
}
