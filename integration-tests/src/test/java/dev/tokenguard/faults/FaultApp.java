package dev.tokenguard.faults;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.ChatModel;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An application that uses openai-java as any app would and knows nothing of TokenGuard. Each argument is one
 * step {@code <name>=<base url>=<scenario>}; each step runs on a thread of its own named {@code fault-<name>} (so
 * it has a budget scope and a session of its own) and prints one line, {@code RESULT <name> <outcome>}: what the
 * app saw (the answer's text, finish reason and usage, or the exception's class and message).
 *
 * <p>The API key is the environment's {@code OPENAI_API_KEY}; the app also sends it in a header and in the
 * request body's {@code user} field, as careless apps do, so that a leak through any of the three shows.
 */
public final class FaultApp {
    private static final String KEY = System.getenv("OPENAI_API_KEY");

    private FaultApp() {
    }

    public static void main(String[] args) throws Exception {
        for (String step : args) {
            String[] parts = step.split("=", 3);
            String name = parts[0];
            String baseUrl = parts[1];
            String scenario = parts[2];
            String[] outcome = new String[1];
            Thread t = new Thread(() -> outcome[0] = run(baseUrl, scenario), "fault-" + name);
            System.err.println("STEP " + name);
            t.start();
            t.join();
            System.out.println("RESULT " + name + " " + outcome[0]);
        }
        System.out.flush();
    }

    private static OpenAIClient client(String baseUrl, int retries, Duration timeout) {
        OpenAIOkHttpClient.Builder b = OpenAIOkHttpClient.builder().baseUrl(baseUrl).apiKey(KEY)
                .putHeader("x-tenant-key", KEY).maxRetries(retries);
        if (timeout != null) {
            b.timeout(timeout);
        }
        return b.build();
    }

    private static ChatCompletionCreateParams params(boolean askUsage) {
        ChatCompletionCreateParams.Builder b = ChatCompletionCreateParams.builder().model(ChatModel.GPT_4O_MINI)
                .addUserMessage("Say something about fault matrices.").user(KEY);
        if (askUsage) {
            b.streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build());
        }
        return b.build();
    }

    static String run(String baseUrl, String scenario) {
        return switch (scenario) {
            case "chat" -> chat(client(baseUrl, 0, null));
            case "chat-retry" -> chat(client(baseUrl, 2, null));
            case "chat-timeout" -> chat(client(baseUrl, 0, Duration.ofSeconds(2)));
            case "stream" -> stream(client(baseUrl, 0, null), false, false);
            case "stream-retry" -> stream(client(baseUrl, 2, null), false, false);
            case "streams" -> twice(client(baseUrl, 0, null));
            case "streams-retry" -> twice(client(baseUrl, 2, null));
            case "stream-usage" -> stream(client(baseUrl, 0, null), true, false);
            case "stream-timeout" -> stream(client(baseUrl, 0, Duration.ofSeconds(2)), false, false);
            case "exit-in-stream" -> stream(client(baseUrl, 0, null), false, true);
            case "loop" -> loop(client(baseUrl, 0, null));
            case "http-streams" -> httpStreamOnce(baseUrl) + " ; then " + httpStreamOnce(baseUrl);
            default -> {
                if (scenario.startsWith("threads:")) {
                    String[] n = scenario.split(":");
                    yield threads(client(baseUrl, 0, null), Integer.parseInt(n[1]), Integer.parseInt(n[2]));
                }
                throw new IllegalArgumentException("unknown scenario " + scenario);
            }
        };
    }

    private static String chat(OpenAIClient client) {
        try {
            ChatCompletion c = client.chat().completions().create(params(false));
            String text = c.choices().get(0).message().content().orElse("");
            return "OK text=" + shown(text) + " finish=" + c.choices().get(0).finishReason()
                    + " usage=" + usage(c.usage());
        } catch (RuntimeException e) {
            return thrown(e, -1);
        } finally {
            client.close();
        }
    }

    /** Two streams in a row on one client (so to one endpoint), neither asking for usage. */
    private static String twice(OpenAIClient client) {
        try {
            return streamOnce(client, false, false) + " ; then " + streamOnce(client, false, false);
        } finally {
            client.close();
        }
    }

    private static String stream(OpenAIClient client, boolean askUsage, boolean exitAfterFirst) {
        try {
            return streamOnce(client, askUsage, exitAfterFirst);
        } finally {
            client.close();
        }
    }

    private static String streamOnce(OpenAIClient client, boolean askUsage, boolean exitAfterFirst) {
        int chunks = 0;
        int usageChunks = 0;
        StringBuilder text = new StringBuilder();
        Optional<CompletionUsage> usage = Optional.empty();
        try (StreamResponse<ChatCompletionChunk> response =
                     client.chat().completions().createStreaming(params(askUsage))) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) response.stream()::iterator) {
                chunks++;
                if (chunk.choices().isEmpty()) {
                    usageChunks++;
                }
                for (ChatCompletionChunk.Choice choice : chunk.choices()) {
                    choice.delta().content().ifPresent(text::append);
                }
                if (chunk.usage().isPresent()) {
                    usage = chunk.usage();
                }
                if (exitAfterFirst) {
                    System.out.println("RESULT exit-in-stream exiting after chunk " + chunks);
                    System.out.flush();
                    System.exit(3);
                }
            }
            return "STREAM chunks=" + chunks + " usageChunks=" + usageChunks + " text=" + shown(text.toString())
                    + " usage=" + usage(usage);
        } catch (RuntimeException e) {
            return thrown(e, chunks) + " text=" + shown(text.toString());
        }
    }

    private static final java.net.http.HttpClient HTTP = java.net.http.HttpClient.newBuilder()
            .version(java.net.http.HttpClient.Version.HTTP_1_1).build();
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    /**
     * One chat stream posted with the JDK's own HTTP client, no SDK, not asking for usage: the app reads the event
     * stream line by line and reports what it saw (events, usage-only chunks, text, usage, whether [DONE] came).
     */
    private static String httpStreamOnce(String baseUrl) {
        int events = 0;
        int usageChunks = 0;
        StringBuilder text = new StringBuilder();
        String usage = "none";
        boolean done = false;
        try {
            com.fasterxml.jackson.databind.node.ObjectNode body = JSON.createObjectNode();
            body.put("model", "gpt-4o-mini");
            body.putArray("messages").addObject().put("role", "user").put("content",
                    "Say something about fault matrices.");
            body.put("stream", true);
            body.put("user", KEY);
            java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(baseUrl + "/chat/completions"))
                    .header("Authorization", "Bearer " + KEY).header("x-tenant-key", KEY)
                    .header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))).build();
            java.net.http.HttpResponse<java.util.stream.Stream<String>> response =
                    HTTP.send(request, java.net.http.HttpResponse.BodyHandlers.ofLines());
            try (java.util.stream.Stream<String> lines = response.body()) {
                for (String line : (Iterable<String>) lines::iterator) {
                    if (!line.startsWith("data:")) {
                        continue;
                    }
                    String data = line.substring(5).trim();
                    if (data.equals("[DONE]")) {
                        done = true;
                        continue;
                    }
                    events++;
                    com.fasterxml.jackson.databind.JsonNode chunk = JSON.readTree(data);
                    if (chunk.path("choices").isArray() && chunk.path("choices").isEmpty()) {
                        usageChunks++;
                    }
                    for (com.fasterxml.jackson.databind.JsonNode choice : chunk.path("choices")) {
                        text.append(choice.path("delta").path("content").asText(""));
                    }
                    if (chunk.path("usage").isObject()) {
                        usage = chunk.path("usage").path("prompt_tokens").asText() + "/"
                                + chunk.path("usage").path("completion_tokens").asText();
                    }
                }
            }
            return "HTTP " + response.statusCode() + " events=" + events + " usageChunks=" + usageChunks + " text="
                    + shown(text.toString()) + " usage=" + usage + " done=" + done;
        } catch (java.io.IOException | RuntimeException e) {
            return thrown(e, events) + " text=" + shown(text.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "INTERRUPTED";
        }
    }

    /** Calls and streams, one after the other, until the JVM is killed. */
    private static String loop(OpenAIClient client) {
        for (int i = 0; ; i++) {
            String outcome = i % 2 == 0 ? chatOnce(client) : countStream(client);
            System.out.println("CALL " + i + " " + outcome);
        }
    }

    private static String chatOnce(OpenAIClient client) {
        try {
            ChatCompletion c = client.chat().completions().create(params(false));
            return "OK usage=" + usage(c.usage());
        } catch (RuntimeException e) {
            return thrown(e, -1);
        }
    }

    private static String countStream(OpenAIClient client) {
        int chunks = 0;
        try (StreamResponse<ChatCompletionChunk> response = client.chat().completions().createStreaming(params(false))) {
            for (ChatCompletionChunk ignored : (Iterable<ChatCompletionChunk>) response.stream()::iterator) {
                chunks++;
            }
            return "STREAM chunks=" + chunks;
        } catch (RuntimeException e) {
            return thrown(e, chunks);
        }
    }

    private static String threads(OpenAIClient client, int threads, int calls) {
        AtomicLong ok = new AtomicLong();
        AtomicLong tokens = new AtomicLong();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                for (int i = 0; i < calls; i++) {
                    try {
                        ChatCompletion c = client.chat().completions().create(params(false));
                        ok.incrementAndGet();
                        tokens.addAndGet(c.usage().map(CompletionUsage::totalTokens).orElse(0L));
                    } catch (RuntimeException e) {
                        failures.add(e.getClass().getName());
                    }
                }
            }, "fault-threads-worker-" + t);
            workers.add(w);
            w.start();
        }
        for (Thread w : workers) {
            try {
                w.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "INTERRUPTED";
            }
        }
        client.close();
        return "THREADS ok=" + ok.get() + " failed=" + failures.size() + " tokens=" + tokens.get()
                + (failures.isEmpty() ? "" : " first=" + failures.get(0));
    }

    private static String usage(Optional<CompletionUsage> usage) {
        return usage.map(u -> u.promptTokens() + "/" + u.completionTokens()).orElse("none");
    }

    /** Short texts as they are; long ones by length and hash. */
    private static String shown(String text) {
        return text.length() <= 80 ? "'" + text + "'" : "<" + text.length() + " chars, hash " + text.hashCode() + ">";
    }

    private static String thrown(Throwable e, int chunks) {
        String message = String.valueOf(e.getMessage()).replace('\n', ' ').replace('\r', ' ');
        if (message.length() > 300) {
            message = message.substring(0, 300) + "...";
        }
        return "THROWN " + e.getClass().getName() + ": " + message + (chunks >= 0 ? " after=" + chunks : "");
    }
}
