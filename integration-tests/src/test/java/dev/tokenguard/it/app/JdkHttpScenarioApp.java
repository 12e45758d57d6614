package dev.tokenguard.it.app;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A service that calls LLM endpoints with nothing but the JDK's {@code java.net.http.HttpClient}, and
 * knows nothing of TokenGuard. Each call prints {@code OK <index> <status> <bytes> <sha-256 of what it
 * read>}, so that runs with and without the agent can be compared byte for byte.
 *
 * <p>Arguments: scenario, base URL ({@code http://host:port/v1} for OpenAI scenarios, {@code http://host:port}
 * for Anthropic ones), number of calls; {@code attach-late} also takes the agent jar and its arguments, and
 * attaches the agent after a first call.
 */
public final class JdkHttpScenarioApp {
    private static final HttpClient CLIENT = HttpClient.newHttpClient();

    private JdkHttpScenarioApp() {
    }

    public static void main(String[] args) throws Exception {
        String scenario = args[0];
        String baseUrl = args[1];
        int calls = Integer.parseInt(args[2]);
        if (scenario.equals("attach-late")) {
            // the client's classes are loaded and used before the agent arrives
            System.out.println("BEFORE " + call("chat", baseUrl, 0));
            net.bytebuddy.agent.ByteBuddyAgent.attach(new java.io.File(args[3]),
                    String.valueOf(ProcessHandle.current().pid()), args[4]);
            ScenarioApp.repeat(calls, i -> (i + 1) + " " + call("chat", baseUrl, i + 1));
            return;
        }
        ScenarioApp.repeat(calls, i -> i + " " + call(scenario, baseUrl, i));
    }

    static String call(String scenario, String baseUrl, int i) throws Exception {
        return switch (scenario) {
            case "chat" -> read(CLIENT.send(chat(baseUrl, i, false, false), HttpResponse.BodyHandlers.ofString()));
            case "chat-async" -> read(CLIENT.sendAsync(chat(baseUrl, i, false, false),
                    HttpResponse.BodyHandlers.ofString()).join());
            case "chat-async-push" -> read(CLIENT.sendAsync(chat(baseUrl, i, false, false),
                    HttpResponse.BodyHandlers.ofString(), null).join());
            case "stream-lines" -> lines(CLIENT.send(chat(baseUrl, i, true, false), HttpResponse.BodyHandlers.ofLines()));
            case "stream-usage-lines" -> lines(CLIENT.send(chat(baseUrl, i, true, true),
                    HttpResponse.BodyHandlers.ofLines()));
            case "stream-input" -> input(CLIENT.send(chat(baseUrl, i, true, false),
                    HttpResponse.BodyHandlers.ofInputStream()));
            case "stream-async-string" -> read(CLIENT.sendAsync(chat(baseUrl, i, true, false),
                    HttpResponse.BodyHandlers.ofString()).join());
            case "embeddings" -> read(CLIENT.send(post(baseUrl + "/embeddings", "{\"model\":\"text-embedding-3-small\","
                    + "\"input\":\"ticket " + i + ": the printer jams\"}"), HttpResponse.BodyHandlers.ofString()));
            case "messages" -> read(CLIENT.send(messages(baseUrl, i, false), HttpResponse.BodyHandlers.ofString()));
            case "messages-stream" -> input(CLIENT.send(messages(baseUrl, i, true),
                    HttpResponse.BodyHandlers.ofInputStream()));
            case "messages-async-stream" -> {
                CompletableFuture<HttpResponse<Stream<String>>> future = CLIENT.sendAsync(messages(baseUrl, i, true),
                        HttpResponse.BodyHandlers.ofLines());
                yield lines(future.join());
            }
            default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        };
    }

    static HttpRequest chat(String baseUrl, int i, boolean stream, boolean askUsage) {
        String body = "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"system\",\"content\":\"You summarise"
                + " support tickets in one sentence.\"},{\"role\":\"user\",\"content\":\"Ticket " + i
                + ": the printer on floor " + (i % 7) + " jams every morning " + "x".repeat(i % 13 * 5) + "\"}]"
                + (stream ? ",\"stream\":true" : "")
                + (askUsage ? ",\"stream_options\":{\"include_usage\":true}" : "") + "}";
        return post(baseUrl + "/chat/completions", body);
    }

    static HttpRequest messages(String baseUrl, int i, boolean stream) {
        String body = "{\"model\":\"claude-haiku-4-5\",\"max_tokens\":256,\"messages\":[{\"role\":\"user\","
                + "\"content\":\"Ticket " + i + ": the badge reader at door " + (i % 5) + " beeps twice\"}]"
                + (stream ? ",\"stream\":true" : "") + "}";
        return HttpRequest.newBuilder(URI.create(baseUrl + "/v1/messages")).header("content-type", "application/json")
                .header("x-api-key", "sk-ant-secret-do-not-log").header("anthropic-version", "2023-06-01")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    static HttpRequest post(String url, String body) {
        return HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .header("Authorization", "Bearer sk-secret-do-not-log")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    static String read(HttpResponse<String> response) throws Exception {
        return digest(response.statusCode(), response.body().getBytes(StandardCharsets.UTF_8));
    }

    static String lines(HttpResponse<Stream<String>> response) throws Exception {
        try (Stream<String> lines = response.body()) {
            String all = lines.collect(Collectors.joining("\n"));
            return digest(response.statusCode(), all.getBytes(StandardCharsets.UTF_8));
        }
    }

    static String input(HttpResponse<InputStream> response) throws Exception {
        try (InputStream in = response.body()) {
            return digest(response.statusCode(), in.readAllBytes());
        }
    }

    static String digest(int status, byte[] body) throws Exception {
        byte[] sha = MessageDigest.getInstance("SHA-256").digest(body);
        return status + " " + body.length + " " + HexFormat.of().formatHex(sha, 0, 8);
    }
}
