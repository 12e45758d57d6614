package dev.tokenguard.it.app;

import com.openai.client.OpenAIClient;
import com.openai.client.OpenAIClientAsync;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.client.okhttp.OpenAIOkHttpClientAsync;
import com.openai.core.http.AsyncStreamResponse;
import com.openai.core.http.StreamResponse;
import com.openai.models.ChatModel;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.embeddings.EmbeddingModel;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseStreamEvent;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An application that uses openai-java as any app would and knows nothing of TokenGuard (it
 * recognises the refusal only by its class name). Each scenario prints one line per call:
 * {@code OK <input> <output>} with the usage the app saw, or {@code REFUSED <class> <message>}.
 *
 * <p>Arguments: {@code <scenario> <baseUrl> <calls>} plus scenario-specific ones.
 */
public final class ScenarioApp {
    private static final int EXTRA_TRIES_AFTER_REFUSAL = 2;

    private ScenarioApp() {
    }

    public static void main(String[] args) throws Exception {
        String scenario = args[0];
        String baseUrl = args[1];
        int calls = Integer.parseInt(args[2]);
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(baseUrl).apiKey("sk-test-secret-key-123")
                .maxRetries(0).build();
        switch (scenario) {
            case "sync" -> repeat(calls, i -> syncChat(client, i));
            case "stream" -> repeat(calls, i -> streamChat(client, i, false));
            case "stream-with-usage" -> repeat(calls, i -> streamChat(client, i, true));
            case "stream-abandoned" -> repeat(calls, i -> streamAbandoned(client, i));
            case "responses" -> repeat(calls, i -> responses(client, i));
            case "responses-stream" -> repeat(calls, i -> responsesStream(client, i));
            case "embeddings" -> repeat(calls, i -> embeddings(client, i));
            case "async" -> {
                OpenAIClientAsync async = OpenAIOkHttpClientAsync.builder().baseUrl(baseUrl)
                        .apiKey("sk-test-secret-key-123").maxRetries(0).build();
                repeat(calls, i -> asyncChat(async, i));
                async.close();
            }
            case "async-stream" -> {
                OpenAIClientAsync async = OpenAIOkHttpClientAsync.builder().baseUrl(baseUrl)
                        .apiKey("sk-test-secret-key-123").maxRetries(0).build();
                repeat(calls, i -> asyncStream(async, i));
                async.close();
            }
            case "threads" -> {
                int failed = threads(client, Integer.parseInt(args[3]), calls);
                if (failed > 0) {
                    client.close();
                    System.exit(1);
                }
            }
            case "mdc" -> {
                org.slf4j.MDC.put("tenant", args[3]);
                repeat(calls, i -> syncChat(client, i));
            }
            case "tenants" -> {
                // tenant t<k> (k = 0, 1, ...) makes k + 1 calls, so each uses more of its budget than the one before
                int tenants = Integer.parseInt(args[3]);
                int call = 0;
                for (int k = 0; k < tenants; k++) {
                    org.slf4j.MDC.put("tenant", "t" + k);
                    for (int c = 0; c <= k; c++) {
                        System.out.println("OK t" + k + " " + syncChat(client, call++));
                    }
                }
                org.slf4j.MDC.remove("tenant");
            }
            case "isolated-loader" -> isolatedLoader(baseUrl, calls);
            case "attach-late" -> {
                // the SDK's classes are loaded and used before the agent arrives
                System.out.println("BEFORE " + syncChat(client, 0));
                net.bytebuddy.agent.ByteBuddyAgent.attach(new java.io.File(args[3]),
                        String.valueOf(ProcessHandle.current().pid()), args[4]);
                repeat(calls, i -> syncChat(client, i + 1));
            }
            case "otel-parent" -> AppTracing.inAppSpan(() -> repeat(calls, i -> syncChat(client, i)));
            case "own-libraries" -> {
                OwnLibraries.use();
                repeat(calls, i -> syncChat(client, i));
            }
            default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        }
        client.close();
    }

    interface Call {
        String run(int index) throws Exception;
    }

    /** Runs calls until one is refused, then tries a few more (each must be refused too). */
    static void repeat(int calls, Call call) throws Exception {
        int refusedAt = -1;
        for (int i = 0; i < calls; i++) {
            if (refusedAt >= 0 && i > refusedAt + EXTRA_TRIES_AFTER_REFUSAL) {
                break;
            }
            try {
                System.out.println("OK " + call.run(i));
            } catch (RuntimeException e) {
                Throwable t = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                        ? e.getCause() : e;
                if (!t.getClass().getSimpleName().equals("BudgetExhaustedException")) {
                    throw e;
                }
                System.out.println("REFUSED " + t.getClass().getName() + " " + t.getMessage()
                        + " loader=" + t.getClass().getClassLoader());
                if (refusedAt < 0) {
                    refusedAt = i;
                }
            }
        }
    }

    static ChatCompletionCreateParams chatParams(int i) {
        return ChatCompletionCreateParams.builder().model(ChatModel.GPT_4O_MINI)
                .addSystemMessage("You summarise support tickets in one sentence.")
                .addUserMessage("Ticket " + i + ": the printer on floor " + (i % 7) + " jams every morning "
                        + "x".repeat(i % 13 * 5))
                .build();
    }

    static String syncChat(OpenAIClient client, int i) {
        ChatCompletion completion = client.chat().completions().create(chatParams(i)); // call-site: syncChat
        return completion.usage().map(u -> u.promptTokens() + " " + u.completionTokens()).orElse("- -");
    }

    static String asyncChat(OpenAIClientAsync client, int i) throws InterruptedException {
        try {
            ChatCompletion completion = client.chat().completions().create(chatParams(i)).get();
            return completion.usage().map(u -> u.promptTokens() + " " + u.completionTokens()).orElse("- -");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    static String streamChat(OpenAIClient client, int i, boolean askUsage) {
        ChatCompletionCreateParams params = chatParams(i);
        if (askUsage) {
            params = params.toBuilder().streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
                    .build();
        }
        int chunks = 0;
        int usageChunks = 0;
        int emptyChoiceChunks = 0;
        StringBuilder text = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                chunks++;
                if (chunk.usage().isPresent()) {
                    usageChunks++;
                }
                if (chunk.choices().isEmpty()) {
                    emptyChoiceChunks++;
                }
                chunk.choices().forEach(c -> c.delta().content().ifPresent(text::append));
            }
        }
        return "- - chunks=" + chunks + " usageChunks=" + usageChunks + " emptyChoiceChunks=" + emptyChoiceChunks
                + " chars=" + text.length();
    }

    /**
     * Pulls exactly two chunks and closes the stream; prints the text those chunks carried, in brackets.
     * The count is checked before {@code hasNext()}, which would otherwise pull a third chunk from the stream.
     */
    static String streamAbandoned(OpenAIClient client, int i) {
        int chunks = 0;
        StringBuilder text = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(chatParams(i))) {
            var it = stream.stream().iterator();
            while (chunks < 2 && it.hasNext()) {
                it.next().choices().forEach(c -> c.delta().content().ifPresent(text::append));
                chunks++;
            }
        }
        return "- - chunks=" + chunks + " text=[" + text + "]";
    }

    static String asyncStream(OpenAIClientAsync client, int i) throws Exception {
        AtomicInteger chunks = new AtomicInteger();
        AtomicInteger usageChunks = new AtomicInteger();
        AsyncStreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(chatParams(i));
        stream.subscribe(chunk -> {
            chunks.incrementAndGet();
            if (chunk.usage().isPresent()) {
                usageChunks.incrementAndGet();
            }
        });
        stream.onCompleteFuture().get();
        return "- - chunks=" + chunks.get() + " usageChunks=" + usageChunks.get();
    }

    static String responses(OpenAIClient client, int i) {
        Response response = client.responses().create(ResponseCreateParams.builder().model(ChatModel.GPT_4O_MINI)
                .input("Summarise ticket " + i + ": the VPN drops every hour").build());
        return response.usage().map(u -> u.inputTokens() + " " + u.outputTokens()).orElse("- -");
    }

    static String responsesStream(OpenAIClient client, int i) {
        List<String> types = new ArrayList<>();
        try (StreamResponse<ResponseStreamEvent> stream = client.responses().createStreaming(ResponseCreateParams
                .builder().model(ChatModel.GPT_4O_MINI).input("Summarise ticket " + i + ": disk full").build())) {
            stream.stream().forEach(e -> types.add(e.isCompleted() ? "completed" : "event"));
        }
        return "- - events=" + types.size() + " completed=" + types.contains("completed");
    }

    static String embeddings(OpenAIClient client, int i) {
        CreateEmbeddingResponse response = client.embeddings().create(EmbeddingCreateParams.builder()
                .model(EmbeddingModel.TEXT_EMBEDDING_3_SMALL).input("ticket " + i + " about a broken keyboard")
                .build());
        return response.usage().promptTokens() + " 0";
    }

    /**
     * Runs the sync scenario inside a class loader that does not delegate to the application class
     * loader (as an application server's or a plugin system's isolated loader), and checks that
     * the refusal type it sees is the one every loader sees.
     */
    static void isolatedLoader(String baseUrl, int calls) throws Exception {
        String[] entries = System.getProperty("java.class.path").split(java.io.File.pathSeparator);
        java.net.URL[] urls = new java.net.URL[entries.length];
        for (int i = 0; i < entries.length; i++) {
            urls[i] = java.nio.file.Path.of(entries[i]).toUri().toURL();
        }
        try (java.net.URLClassLoader isolated = new java.net.URLClassLoader("isolated", urls,
                ClassLoader.getPlatformClassLoader())) {
            Class<?> app = Class.forName(ScenarioApp.class.getName(), true, isolated);
            System.out.println("ISOLATED app-loader=" + app.getClassLoader().getName() + " same-class="
                    + (Class.forName("dev.tokenguard.api.BudgetExhaustedException", false, isolated)
                    == Class.forName("dev.tokenguard.api.BudgetExhaustedException")));
            app.getMethod("main", String[].class).invoke(null,
                    (Object) new String[] {"sync", baseUrl, String.valueOf(calls)});
        }
    }

    /**
     * Runs the sync scenario on {@code threads} threads at once. A worker that fails prints
     * {@code FAILED <thread> <exception>}; returns how many failed (the scenario then exits with 1).
     */
    static int threads(OpenAIClient client, int threads, int callsPerThread) throws InterruptedException {
        AtomicInteger failed = new AtomicInteger();
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread thread = new Thread(() -> {
                try {
                    repeat(callsPerThread, i -> syncChat(client, i));
                } catch (Throwable e) {
                    failed.incrementAndGet();
                    System.out.println("FAILED " + Thread.currentThread().getName() + " " + e);
                }
            }, "worker-" + t);
            all.add(thread);
            thread.start();
        }
        for (Thread thread : all) {
            thread.join();
        }
        return failed.get();
    }
}
