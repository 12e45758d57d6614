package dev.tokenguard.it.app;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Many threads spending one budget at once: each makes chat calls with no output cap, one after another, until one is
 * refused. The fake server runs in this JVM (so that the moment of each refusal can be compared with what the server
 * had answered by then) and answers each request after a delay, so that many calls are in flight together.
 *
 * <p>Arguments: {@code <threads> <limit> <delay ms>}. Prints, from the server's ledger:
 * {@code REFUSAL <tokens the server had answered when the refusal reached the app>} per refusal and one line
 * {@code RESULT requests=<n> tokens=<total> past=<total - limit> afterExhaustion=<requests that arrived when the
 * answered tokens were already >= limit> largest=<largest single call> refusals=<n>}.
 */
public final class ConcurrentBudgetApp {
    private ConcurrentBudgetApp() {
    }

    public static void main(String[] args) throws Exception {
        int threads = Integer.parseInt(args[0]);
        long limit = Long.parseLong(args[1]);
        long delay = Long.parseLong(args[2]);
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            server.setAnswerDelay(Duration.ofMillis(delay));
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("sk-test-key")
                    .maxRetries(0).timeout(Duration.ofMinutes(2)).build();
            ConcurrentLinkedQueue<Long> refusals = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            AtomicInteger calls = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            Thread[] workers = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                workers[t] = new Thread(() -> {
                    try {
                        go.await();
                        for (;;) {
                            try {
                                ScenarioApp.syncChat(client, calls.incrementAndGet());
                            } catch (RuntimeException e) {
                                if (!e.getClass().getSimpleName().equals("BudgetExhaustedException")) {
                                    throw e;
                                }
                                refusals.add(server.totalTokens());
                                return;
                            }
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "caller-" + t);
                workers[t].start();
            }
            go.countDown();
            for (Thread w : workers) {
                w.join();
            }
            client.close();
            for (Throwable f : failures) {
                System.out.println("FAILED " + f);
            }
            for (long r : refusals) {
                System.out.println("REFUSAL " + r);
            }
            List<RecordedRequest> requests = server.requests();
            long largest = 0;
            for (RecordedRequest r : requests) {
                largest = Math.max(largest, r.usage() == null ? 0 : r.usage().totalTokens());
            }
            long afterExhaustion = server.tokensAnsweredAtArrival().stream().filter(t -> t >= limit).count();
            System.out.println("RESULT requests=" + requests.size() + " tokens=" + server.totalTokens() + " past="
                    + (server.totalTokens() - limit) + " afterExhaustion=" + afterExhaustion + " largest=" + largest
                    + " refusals=" + refusals.size());
        }
    }
}
