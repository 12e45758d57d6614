package dev.tokenguard.it.app;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A service that calls LLM endpoints with nothing but the JDK's {@code HttpURLConnection}, as older
 * code does, and knows nothing of TokenGuard. Runs each named scenario on a thread of its own (so each
 * has a budget of its own under the default thread scope), one after the other, printing
 * {@code SCENARIO <name>} and then, per call, {@code OK <index> <status> <bytes> <sha-256 of what the app
 * read>} or {@code REFUSED ...} (see {@link ScenarioApp#repeat}).
 *
 * <p>Arguments: OpenAI base URL ({@code http://host:port/v1}), Anthropic base URL, calls per scenario,
 * scenarios separated by commas: {@code chat} (status first, then the body), {@code chat-input} (the body
 * straight away), {@code chat-fixed} (fixed-length streaming mode), {@code chat-stream},
 * {@code chat-stream-usage} (SSE read line by line), {@code embeddings}, {@code messages},
 * {@code messages-stream}.
 */
public final class HttpUrlConnectionScenarioApp {
    private HttpUrlConnectionScenarioApp() {
    }

    public static void main(String[] args) throws Exception {
        String openAi = args[0];
        String anthropic = args[1];
        int calls = Integer.parseInt(args[2]);
        for (String scenario : args[3].split(",")) {
            System.out.println("SCENARIO " + scenario);
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread worker = new Thread(() -> {
                try {
                    ScenarioApp.repeat(calls, i -> i + " " + call(scenario, openAi, anthropic, i));
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

    static String call(String scenario, String openAi, String anthropic, int i) throws Exception {
        String text = "Ticket " + i + ": the printer on floor " + (i % 7) + " jams every morning " + "x".repeat(i % 13 * 5);
        return switch (scenario) {
            case "chat" -> post(openAi + "/chat/completions", chat(text, false, false), false, true, false);
            case "chat-input" -> post(openAi + "/chat/completions", chat(text, false, false), false, false, false);
            case "chat-fixed" -> post(openAi + "/chat/completions", chat(text, false, false), false, true, true);
            case "chat-stream" -> post(openAi + "/chat/completions", chat(text, true, false), true, true, false);
            case "chat-stream-usage" -> post(openAi + "/chat/completions", chat(text, true, true), true, false, false);
            case "embeddings" -> post(openAi + "/embeddings", "{\"model\":\"text-embedding-3-small\",\"input\":\""
                    + text + "\"}", false, true, false);
            case "messages" -> post(anthropic + "/v1/messages", messages(text, false), false, true, false);
            case "messages-stream" -> post(anthropic + "/v1/messages", messages(text, true), true, false, false);
            default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        };
    }

    static String chat(String text, boolean stream, boolean askUsage) {
        return "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"system\",\"content\":\"You summarise support"
                + " tickets in one sentence.\"},{\"role\":\"user\",\"content\":\"" + text + "\"}]"
                + (stream ? ",\"stream\":true" : "") + (askUsage ? ",\"stream_options\":{\"include_usage\":true}" : "")
                + "}";
    }

    static String messages(String text, boolean stream) {
        return "{\"model\":\"claude-haiku-4-5\",\"max_tokens\":256," + (stream ? "\"stream\":true," : "")
                + "\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}";
    }

    /**
     * One POST as such code writes it: the body to {@code getOutputStream()}, then the status (when
     * {@code statusFirst}) and the body; a stream read line by line as SSE readers do.
     */
    static String post(String url, String json, boolean lines, boolean statusFirst, boolean fixedLength)
            throws Exception {
        HttpURLConnection connection = (HttpURLConnection) new URL(url).openConnection();
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        connection.setRequestMethod("POST");
        connection.setDoOutput(true);
        connection.setRequestProperty("Content-Type", "application/json");
        connection.setRequestProperty("Authorization", "Bearer sk-huc-secret-4711");
        connection.setRequestProperty("x-api-key", "sk-ant-huc-secret-4711");
        connection.setRequestProperty("anthropic-version", "2023-06-01");
        if (fixedLength) {
            connection.setFixedLengthStreamingMode(body.length);
        }
        try (OutputStream out = connection.getOutputStream()) {
            out.write(body);
        }
        int status = statusFirst ? connection.getResponseCode() : -1;
        byte[] read;
        try (InputStream in = connection.getInputStream()) {
            read = lines ? lines(in) : in.readAllBytes();
        }
        if (!statusFirst) {
            status = connection.getResponseCode();
        }
        connection.disconnect();
        return digest(status, read);
    }

    static byte[] lines(InputStream in) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        StringBuilder all = new StringBuilder();
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
            all.append(line).append('\n');
        }
        return all.toString().getBytes(StandardCharsets.UTF_8);
    }

    static String digest(int status, byte[] body) throws Exception {
        byte[] sha = MessageDigest.getInstance("SHA-256").digest(body);
        return status + " " + body.length + " " + HexFormat.of().formatHex(sha, 0, 8);
    }
}
