package dev.tokenguard.it.app;

import com.openai.client.OpenAIClient;
import com.openai.client.OpenAIClientAsync;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.client.okhttp.OpenAIOkHttpClientAsync;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import dev.tokenguard.sample.stub.FakeOpenAiServer;

import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;

/**
 * Every way a call can end without a normal response, each followed by a normal call: a call that throws (HTTP 500),
 * one that times out, one that is cancelled, and a stream that is dropped without being closed. Run with a reserve that
 * covers nearly the whole budget and a long reserve-wait, a reservation that leaked would hold the next normal call
 * back for the whole wait; each normal call printing {@code OK} shows none did. A call cancelled by the app (whose
 * response the SDK then never reads) and a dropped stream end only when their objects are collected, so the normal call
 * after each runs while this app collects garbage. The fake server runs in this JVM.
 */
public final class ExitPathsApp {
    private ExitPathsApp() {
    }

    public static void main(String[] args) throws Exception {
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("sk-test-key")
                    .maxRetries(0).build();
            System.out.println("OK " + ScenarioApp.syncChat(client, 1));

            server.setFailNext(500);
            try {
                ScenarioApp.syncChat(client, 2);
                System.out.println("UNEXPECTED no error");
            } catch (RuntimeException e) {
                System.out.println("THREW " + e.getClass().getSimpleName());
            }
            System.out.println("OK " + ScenarioApp.syncChat(client, 3));

            server.setAnswerDelay(Duration.ofMillis(1_500));
            OpenAIClient impatient = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("sk-test-key")
                    .maxRetries(0).timeout(Duration.ofMillis(200)).build();
            try {
                ScenarioApp.syncChat(impatient, 4);
                System.out.println("UNEXPECTED no timeout");
            } catch (RuntimeException e) {
                System.out.println("TIMED_OUT " + e.getClass().getSimpleName());
            }
            impatient.close();

            OpenAIClientAsync async = OpenAIOkHttpClientAsync.builder().baseUrl(server.baseUrl()).apiKey("sk-test-key")
                    .maxRetries(0).build();
            CompletableFuture<ChatCompletion> pending = async.chat().completions().create(ScenarioApp.chatParams(5));
            System.out.println("CANCELLED " + pending.cancel(true));
            server.setAnswerDelay(Duration.ZERO);
            // the response of the cancelled call still arrives, and the SDK never reads it: the agent learns that the
            // call was abandoned only when the call's objects are collected
            System.out.println("OK " + whileCollecting(() -> ScenarioApp.syncChat(client, 6)));

            dropStreamUnclosed(client);
            System.out.println("OK " + whileCollecting(() -> ScenarioApp.syncChat(client, 8)));
            async.close();
            client.close();
        }
    }

    /** Runs {@code call} on another thread and collects garbage until it returns. */
    private static String whileCollecting(java.util.concurrent.Callable<String> call) throws Exception {
        java.util.concurrent.FutureTask<String> task = new java.util.concurrent.FutureTask<>(call);
        Thread t = new Thread(task, "next-call");
        t.start();
        while (t.isAlive()) {
            System.gc();
            System.runFinalization();
            t.join(200);
        }
        return task.get();
    }

    /** Reads one chunk of a stream and lets go of it without closing it. */
    @SuppressWarnings("resource")
    private static void dropStreamUnclosed(OpenAIClient client) {
        StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(
                ScenarioApp.chatParams(7));
        Iterator<ChatCompletionChunk> it = stream.stream().iterator();
        System.out.println("STREAM_DROPPED " + (it.hasNext() ? 1 : 0));
    }
}
