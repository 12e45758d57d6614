package dev.tokenguard.it.app;

import com.openai.client.OpenAIClient;
import com.openai.client.OpenAIClientAsync;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.client.okhttp.OpenAIOkHttpClientAsync;
import com.openai.core.http.AsyncStreamResponse;
import com.openai.core.http.StreamResponse;
import com.openai.models.ChatModel;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.embeddings.EmbeddingModel;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseStreamEvent;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * More scenarios of an application that knows nothing of TokenGuard, for the promises README makes
 * beyond the basic ones of {@link ScenarioApp} (whose output conventions they share: one
 * {@code OK ...} or {@code REFUSED ...} line per call).
 *
 * <p>Arguments: {@code <scenario> <baseUrl> <calls>} plus scenario-specific ones; the API key is
 * the system property {@code scenario.api-key} when set.
 */
public final class PromiseScenarios {
    static final String DEFAULT_KEY = "sk-test-secret-key-123";

    private PromiseScenarios() {
    }

    public static void main(String[] args) throws Exception {
        String scenario = args[0];
        String baseUrl = args[1];
        int calls = Integer.parseInt(args[2]);
        String key = System.getProperty("scenario.api-key", DEFAULT_KEY);
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(baseUrl).apiKey(key).maxRetries(0).build();
        OpenAIClientAsync async = OpenAIOkHttpClientAsync.builder().baseUrl(baseUrl).apiKey(key).maxRetries(0)
                .build();
        switch (scenario) {
            case "sync-then-stream" -> {
                // a -javaagent jar is always on the system class path; an installed agent puts its API on the
                // bootstrap class path
                System.out.println("API_CLASS bootstrap=" + onBootstrapPath("dev.tokenguard.api.BudgetExhaustedException"));
                ScenarioApp.repeat(calls, i -> ScenarioApp.syncChat(client, i));
                // a stream that does not ask for usage: only an agent would add stream_options.include_usage
                System.out.println("OK " + ScenarioApp.streamChat(client, calls, false));
            }
            case "chat" -> ScenarioApp.repeat(calls, i -> ScenarioApp.syncChat(client, i));
            case "stream-chunks" -> ScenarioApp.repeat(calls, i -> ScenarioApp.streamChat(client, i, false));
            case "async-responses" -> ScenarioApp.repeat(calls, i -> asyncResponse(async, i));
            case "async-responses-stream" -> ScenarioApp.repeat(calls, i -> asyncResponseStream(async, i));
            case "async-embeddings" -> ScenarioApp.repeat(calls, i -> asyncEmbeddings(async, i));
            case "timed-streams" -> timedStreams(client, Long.parseLong(args[3]));
            case "daemon-left-running" -> daemonLeftRunning(client, calls);
            case "across-a-window" -> acrossAWindow(client, calls);
            case "log4j-tenants" -> {
                System.out.println("SLF4J visible=" + visible("org.slf4j.MDC") + " LOG4J visible="
                        + visible("org.apache.logging.log4j.ThreadContext"));
                for (int t = 3; t < args.length; t++) {
                    org.apache.logging.log4j.ThreadContext.put("tenant", args[t]);
                    ScenarioApp.repeat(calls, i -> ScenarioApp.syncChat(client, i));
                }
                org.apache.logging.log4j.ThreadContext.clearMap();
            }
            case "while-collector-holds" -> whileCollectorHolds(client, calls, Path.of(args[3]), Path.of(args[4]));
            case "every-kind" -> everyKind(client, async, calls);
            default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        }
        async.close();
        client.close();
    }

    static boolean onBootstrapPath(String className) {
        try {
            return Class.forName(className).getClassLoader() == null;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    static boolean visible(String className) {
        try {
            Class.forName(className);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** The future's value; its failure rethrown as the exception the app would see (a refusal included). */
    static <T> T await(CompletableFuture<T> future) throws InterruptedException {
        try {
            return future.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("no answer within 60 s", e);
        }
    }

    static ResponseCreateParams responseParams(int i) {
        return ResponseCreateParams.builder().model(ChatModel.GPT_4O_MINI)
                .input("Summarise ticket " + i + ": the badge reader at door " + (i % 5) + " rejects valid badges")
                .build();
    }

    static String asyncResponse(OpenAIClientAsync client, int i) throws InterruptedException {
        Response response = await(client.responses().create(responseParams(i)));
        return response.usage().map(u -> u.inputTokens() + " " + u.outputTokens()).orElse("- -");
    }

    static String asyncResponseStream(OpenAIClientAsync client, int i) throws InterruptedException {
        AtomicInteger events = new AtomicInteger();
        AtomicInteger completed = new AtomicInteger();
        AsyncStreamResponse<ResponseStreamEvent> stream = client.responses().createStreaming(responseParams(i));
        stream.subscribe(event -> {
            events.incrementAndGet();
            if (event.isCompleted()) {
                completed.incrementAndGet();
            }
        });
        await(stream.onCompleteFuture());
        return "- - events=" + events.get() + " completed=" + completed.get();
    }

    static String asyncEmbeddings(OpenAIClientAsync client, int i) throws InterruptedException {
        CreateEmbeddingResponse response = await(client.embeddings().create(EmbeddingCreateParams.builder()
                .model(EmbeddingModel.TEXT_EMBEDDING_3_SMALL).input("ticket " + i + " about a flickering monitor")
                .build()));
        return response.usage().promptTokens() + " 0";
    }

    /**
     * Two streams whose ends the app controls: one read to its end with a pause before each read,
     * one closed after two chunks and a pause. Prints the wall-clock instants (epoch nanoseconds)
     * around the moment each stream ended: {@code FULL <before last read> <after close>} and
     * {@code EARLY <before close> <after close>}.
     */
    static void timedStreams(OpenAIClient client, long pauseMillis) throws InterruptedException {
        long beforeLastRead = 0;
        int chunks = 0;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions()
                .createStreaming(ScenarioApp.chatParams(0))) {
            Iterator<ChatCompletionChunk> it = stream.stream().iterator();
            while (true) {
                Thread.sleep(pauseMillis);
                beforeLastRead = epochNanos();
                if (!it.hasNext()) {
                    break;
                }
                it.next();
                chunks++;
            }
        }
        System.out.println("FULL " + beforeLastRead + " " + epochNanos() + " chunks=" + chunks);

        long beforeClose;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions()
                .createStreaming(ScenarioApp.chatParams(1))) {
            Iterator<ChatCompletionChunk> it = stream.stream().iterator();
            it.next();
            it.next();
            Thread.sleep(pauseMillis);
            beforeClose = epochNanos();
        }
        System.out.println("EARLY " + beforeClose + " " + epochNanos());
    }

    static long epochNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /**
     * A daemon thread makes its calls and then stays blocked; main returns, so the JVM exits with
     * that thread still alive.
     */
    static void daemonLeftRunning(OpenAIClient client, int calls) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        Thread worker = new Thread(() -> {
            try {
                ScenarioApp.repeat(calls, i -> ScenarioApp.syncChat(client, i));
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                done.countDown();
            }
            try {
                never.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "left-running");
        worker.setDaemon(true);
        worker.start();
        if (!done.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the worker did not make its calls within 60 s");
        }
        System.out.println("MAIN returns, worker alive=" + worker.isAlive());
    }

    /**
     * {@code calls} calls in one UTC minute, then {@code calls} more in the next one. Never starts
     * less than 20 s before a minute boundary, so that the first calls surely fall in one window even
     * when the JVM's first call takes seconds (class loading on a busy machine). Waits at most about 80 s.
     */
    static void acrossAWindow(OpenAIClient client, int calls) throws Exception {
        if (Duration.between(Instant.now(), nextMinute()).toMillis() < 20_000) {
            sleepUntil(nextMinute().plusMillis(500));
        }
        System.out.println("WINDOW 1 " + Instant.now());
        ScenarioApp.repeat(calls, i -> ScenarioApp.syncChat(client, i));
        sleepUntil(nextMinute().plusMillis(500));
        System.out.println("WINDOW 2 " + Instant.now());
        ScenarioApp.repeat(calls, i -> ScenarioApp.syncChat(client, calls + i));
    }

    static Instant nextMinute() {
        return Instant.now().truncatedTo(ChronoUnit.MINUTES).plus(1, ChronoUnit.MINUTES);
    }

    static void sleepUntil(Instant when) throws InterruptedException {
        long millis;
        while ((millis = Duration.between(Instant.now(), when).toMillis()) > 0) {
            Thread.sleep(millis);
        }
    }

    /**
     * Calls until the collector has received an export request (it then holds the request
     * unanswered), then {@code calls} more while it holds it, then tells the collector the calls are
     * done by creating {@code doneFile}. An exporter on the call path would block the first call
     * until then, which never comes.
     */
    static void whileCollectorHolds(OpenAIClient client, int calls, Path heldFile, Path doneFile) throws Exception {
        int i = 0;
        System.out.println("OK " + ScenarioApp.syncChat(client, i++));
        // counted from the end of the first call: on a busy machine that one alone (class loading) can take 30 s
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!Files.exists(heldFile) && System.nanoTime() < deadline) {
            Thread.sleep(50);
            if (!Files.exists(heldFile)) {
                System.out.println("OK " + ScenarioApp.syncChat(client, i++));
            }
        }
        System.out.println("COLLECTOR holding=" + Files.exists(heldFile) + " after " + i + " calls");
        for (int j = 0; j < calls; j++) {
            System.out.println("OK " + ScenarioApp.syncChat(client, i++));
        }
        System.out.println("COLLECTOR still holding=" + !Files.exists(doneFile));
        Files.createFile(doneFile);
    }

    /**
     * Every kind of call the agent governs, the first of which the server fails (the test asks it
     * to): chat (blocking, streaming, async), Responses (blocking, streaming) and embeddings.
     */
    static void everyKind(OpenAIClient client, OpenAIClientAsync async, int calls) throws Exception {
        try {
            ScenarioApp.syncChat(client, 0);
            System.out.println("UNEXPECTED the first call succeeded");
        } catch (RuntimeException e) {
            System.out.println("FAILED " + e.getClass().getSimpleName());
        }
        for (int i = 0; i < calls; i++) {
            System.out.println("OK " + ScenarioApp.syncChat(client, i));
            System.out.println("OK " + ScenarioApp.streamChat(client, i, false));
            System.out.println("OK " + ScenarioApp.asyncChat(async, i));
            System.out.println("OK " + ScenarioApp.asyncStream(async, i));
            System.out.println("OK " + ScenarioApp.responses(client, i));
            System.out.println("OK " + ScenarioApp.responsesStream(client, i));
            System.out.println("OK " + ScenarioApp.embeddings(client, i));
            System.out.println("OK " + asyncResponse(async, i));
        }
    }
}
