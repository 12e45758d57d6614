package dev.tokenguard.it.app;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One JVM of a fleet that shares a budget through a store; it knows nothing of TokenGuard (it tells a refusal by its
 * class name). Arguments: {@code <baseUrl> until-refused <threads>}: every thread calls until it is refused; prints
 * {@code REFUSED <message>} per thread, {@code CALLS <n>}. Or {@code <baseUrl> phases <dir> <calls> <tag>}: makes
 * {@code calls} calls, creates {@code <dir>/<tag>.1}, waits for {@code <dir>/stopped}; makes {@code calls} calls,
 * creates {@code <dir>/<tag>.2}, waits for {@code <dir>/restarted}; makes {@code calls} calls, retrying one that is
 * refused because the store is still away (for at most 20 s). Prints {@code PHASE<n> OK} or
 * {@code PHASE<n> REFUSED <message>} per call. {@code FAILED <error>} for anything else.
 */
public final class FleetBudgetApp {
    private FleetBudgetApp() {
    }

    public static void main(String[] args) throws Exception {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(args[0]).apiKey("sk-test-fleet-key")
                .maxRetries(0).timeout(Duration.ofMinutes(2)).build();
        try {
            if (args[1].equals("until-refused")) {
                untilRefused(client, Integer.parseInt(args[2]));
            } else {
                phases(client, Path.of(args[2]), Integer.parseInt(args[3]), args[4]);
            }
        } finally {
            client.close();
        }
    }

    private static boolean isRefusal(Throwable e) {
        return e.getClass().getSimpleName().equals("BudgetExhaustedException");
    }

    private static void untilRefused(OpenAIClient client, int threads) throws InterruptedException {
        ConcurrentLinkedQueue<String> refusals = new ConcurrentLinkedQueue<>();
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
                            if (!isRefusal(e)) {
                                throw e;
                            }
                            refusals.add(e.getMessage());
                            return;
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "fleet-caller-" + t);
            workers[t].start();
        }
        go.countDown();
        for (Thread w : workers) {
            w.join();
        }
        for (Throwable f : failures) {
            System.out.println("FAILED " + f);
        }
        for (String r : refusals) {
            System.out.println("REFUSED " + r);
        }
        System.out.println("CALLS " + calls.get());
    }

    private static void phases(OpenAIClient client, Path dir, int calls, String tag) throws Exception {
        for (int phase = 1; phase <= 3; phase++) {
            for (int i = 0; i < calls; i++) {
                long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                for (;;) {
                    try {
                        ScenarioApp.syncChat(client, phase * 100 + i);
                        System.out.println("PHASE" + phase + " OK");
                        break;
                    } catch (RuntimeException e) {
                        if (!isRefusal(e)) {
                            System.out.println("FAILED " + e);
                            break;
                        }
                        if (phase == 3 && e.getMessage().contains("cannot be reached")
                                && System.nanoTime() < giveUp) {
                            Thread.sleep(50); // the agent has not seen the store come back yet
                            continue;
                        }
                        System.out.println("PHASE" + phase + " REFUSED " + e.getMessage());
                        break;
                    }
                }
            }
            if (phase < 3) {
                Files.createFile(dir.resolve(tag + "." + phase));
                Path signal = dir.resolve(phase == 1 ? "stopped" : "restarted");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!Files.exists(signal)) {
                    if (System.nanoTime() > deadline) {
                        System.out.println("FAILED no " + signal.getFileName() + " within 60 s");
                        return;
                    }
                    Thread.sleep(10);
                }
            }
        }
    }
}
