package dev.tokenguard.it.app;

import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An application that talks to an LLM API with plain OkHttp, as any app would, and knows nothing of
 * TokenGuard. Each call prints {@code OK <status> <bytes> <sha-256>} of the response body exactly as
 * the app read it (a stream line by line, as SSE readers do), or {@code REFUSED ...} (see
 * {@link ScenarioApp#repeat}).
 *
 * <p>First prints {@code OKHTTP <version>} of the OkHttp it runs on. Arguments: {@code <scenario> <baseUrl> <calls>}; scenarios {@code chat}, {@code chat-stream},
 * {@code chat-stream-usage}, {@code embeddings} (OpenAI, base URL ending in {@code /v1}),
 * {@code messages}, {@code messages-stream} (Anthropic), each also as {@code async-<scenario>}
 * (enqueued with a callback instead of executed).
 */
public final class OkHttpScenarioApp {
    static final MediaType JSON = MediaType.get("application/json");

    private OkHttpScenarioApp() {
    }

    public static void main(String[] args) throws Exception {
        String scenario = args[0];
        String baseUrl = args[1];
        int calls = Integer.parseInt(args[2]);
        boolean async = scenario.startsWith("async-");
        String api = async ? scenario.substring("async-".length()) : scenario;
        // read at run time: the constant would be the compile-time OkHttp's
        System.out.println("OKHTTP " + Class.forName("okhttp3.OkHttp").getField("VERSION").get(null));
        OkHttpClient client = new OkHttpClient.Builder().retryOnConnectionFailure(false).build();
        ScenarioApp.repeat(calls, i -> {
            Request request = request(api, baseUrl, i);
            boolean stream = api.contains("stream");
            return async ? enqueue(client, request, stream) : execute(client, request, stream);
        });
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
    }

    static Request request(String api, String baseUrl, int i) {
        String text = "Ticket " + i + ": the printer on floor " + (i % 7) + " jams " + "x".repeat(i % 13 * 5);
        return switch (api) {
            case "chat", "chat-stream", "chat-stream-usage" -> new Request.Builder()
                    .url(baseUrl + "/chat/completions").header("Authorization", "Bearer sk-okhttp-secret-4711")
                    .post(RequestBody.create("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\""
                            + text + "\"}]" + (api.equals("chat") ? "" : ",\"stream\":true")
                            + (api.equals("chat-stream-usage") ? ",\"stream_options\":{\"include_usage\":true}" : "")
                            + "}", JSON)).build();
            case "embeddings" -> new Request.Builder().url(baseUrl + "/embeddings")
                    .header("Authorization", "Bearer sk-okhttp-secret-4711")
                    .post(RequestBody.create("{\"model\":\"text-embedding-3-small\",\"input\":\"" + text + "\"}", JSON))
                    .build();
            case "messages", "messages-stream" -> new Request.Builder().url(baseUrl + "/v1/messages")
                    .header("x-api-key", "sk-ant-okhttp-secret-4711").header("anthropic-version", "2023-06-01")
                    .post(RequestBody.create("{\"model\":\"claude-haiku-4-5\",\"max_tokens\":256,"
                            + (api.equals("messages") ? "" : "\"stream\":true,")
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}", JSON)).build();
            default -> throw new IllegalArgumentException("unknown scenario " + api);
        };
    }

    static String execute(OkHttpClient client, Request request, boolean stream) {
        try (Response response = client.newCall(request).execute()) {
            return read(response, stream);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String enqueue(OkHttpClient client, Request request, boolean stream) {
        CompletableFuture<String> read = new CompletableFuture<>();
        client.newCall(request).enqueue(new Callback() {
            @Override
            public void onFailure(Call call, IOException e) {
                read.completeExceptionally(e);
            }

            @Override
            public void onResponse(Call call, Response response) {
                try (response) {
                    read.complete(OkHttpScenarioApp.read(response, stream));
                } catch (RuntimeException | IOException e) {
                    read.completeExceptionally(e);
                }
            }
        });
        try {
            return read.get(60, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What the app read: status, byte count and digest (a stream read line by line until exhausted). */
    static String read(Response response, boolean stream) throws IOException {
        byte[] body;
        if (stream) {
            BufferedSource source = response.body().source();
            StringBuilder lines = new StringBuilder();
            while (!source.exhausted()) {
                String line = source.readUtf8Line();
                lines.append(line).append('\n');
            }
            body = lines.toString().getBytes(StandardCharsets.UTF_8);
        } else {
            body = response.body().bytes();
        }
        try {
            String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
            return response.code() + " " + body.length + " " + digest;
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
