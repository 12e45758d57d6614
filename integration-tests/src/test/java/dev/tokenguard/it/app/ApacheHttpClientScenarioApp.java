package dev.tokenguard.it.app;

import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.entity.StringEntity;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A service that calls LLM endpoints with Apache HttpClient 5's classic API and knows nothing of
 * TokenGuard. First prints {@code HTTPCLIENT <version>} of the HttpClient it runs on, then runs each
 * named scenario on a thread of its own (a budget of its own under the default thread scope), one after
 * the other: {@code SCENARIO <name>}, then per call {@code OK <index> <status> <bytes> <sha-256 of what the
 * app read>} or {@code REFUSED ...} (see {@link ScenarioApp#repeat}).
 *
 * <p>Arguments: OpenAI base URL ({@code http://host:port/v1}), Anthropic base URL, calls per scenario,
 * scenarios separated by commas: {@code chat} ({@code execute} and {@code EntityUtils}), {@code chat-handler}
 * (a response handler), {@code chat-minimal} (the minimal client), {@code chat-stream},
 * {@code chat-stream-usage} (SSE read line by line), {@code embeddings}, {@code messages},
 * {@code messages-stream}.
 */
public final class ApacheHttpClientScenarioApp {
    private ApacheHttpClientScenarioApp() {
    }

    public static void main(String[] args) throws Exception {
        String openAi = args[0];
        String anthropic = args[1];
        int calls = Integer.parseInt(args[2]);
        System.out.println("HTTPCLIENT " + CloseableHttpClient.class.getPackage().getImplementationVersion());
        try (CloseableHttpClient client = HttpClients.createDefault();
             CloseableHttpClient minimal = HttpClients.createMinimal()) {
            for (String scenario : args[3].split(",")) {
                System.out.println("SCENARIO " + scenario);
                AtomicReference<Throwable> failed = new AtomicReference<>();
                Thread worker = new Thread(() -> {
                    try {
                        ScenarioApp.repeat(calls, i -> i + " " + call(scenario.equals("chat-minimal") ? minimal : client,
                                scenario, openAi, anthropic, i));
                    } catch (Throwable e) {
                        failed.set(e);
                    }
                }, "scenario-" + scenario);
                worker.start();
                worker.join();
                if (failed.get() != null) {
                    throw new IllegalStateException(scenario + " failed", failed.get());
                }
            }
        }
    }

    static String call(CloseableHttpClient client, String scenario, String openAi, String anthropic, int i)
            throws Exception {
        String text = "Ticket " + i + ": the printer on floor " + (i % 7) + " jams every morning " + "x".repeat(i % 13 * 5);
        return switch (scenario) {
            case "chat", "chat-minimal" -> whole(client, post(openAi + "/chat/completions",
                    HttpUrlConnectionScenarioApp.chat(text, false, false)));
            case "chat-handler" -> client.execute(post(openAi + "/chat/completions",
                    HttpUrlConnectionScenarioApp.chat(text, false, false)), response -> {
                        try {
                            return digest(response.getCode(), EntityUtils.toByteArray(response.getEntity()));
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    });
            case "chat-stream" -> lines(client, post(openAi + "/chat/completions",
                    HttpUrlConnectionScenarioApp.chat(text, true, false)));
            case "chat-stream-usage" -> lines(client, post(openAi + "/chat/completions",
                    HttpUrlConnectionScenarioApp.chat(text, true, true)));
            case "embeddings" -> whole(client, post(openAi + "/embeddings",
                    "{\"model\":\"text-embedding-3-small\",\"input\":\"" + text + "\"}"));
            case "messages" -> whole(client, post(anthropic + "/v1/messages",
                    HttpUrlConnectionScenarioApp.messages(text, false)));
            case "messages-stream" -> lines(client, post(anthropic + "/v1/messages",
                    HttpUrlConnectionScenarioApp.messages(text, true)));
            default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        };
    }

    static HttpPost post(String url, String json) {
        HttpPost post = new HttpPost(url);
        post.setHeader("Authorization", "Bearer sk-hc5-secret-4711");
        post.setHeader("x-api-key", "sk-ant-hc5-secret-4711");
        post.setHeader("anthropic-version", "2023-06-01");
        post.setEntity(new StringEntity(json, ContentType.APPLICATION_JSON));
        return post;
    }

    static String whole(CloseableHttpClient client, HttpPost post) throws Exception {
        try (CloseableHttpResponse response = client.execute(post)) {
            return digest(response.getCode(), EntityUtils.toByteArray(response.getEntity()));
        }
    }

    static String lines(CloseableHttpClient client, HttpPost post) throws Exception {
        try (CloseableHttpResponse response = client.execute(post)) {
            BufferedReader reader = new BufferedReader(new InputStreamReader(response.getEntity().getContent(),
                    StandardCharsets.UTF_8));
            StringBuilder all = new StringBuilder();
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                all.append(line).append('\n');
            }
            return digest(response.getCode(), all.toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    static String digest(int status, byte[] body) throws Exception {
        return HttpUrlConnectionScenarioApp.digest(status, body);
    }
}
