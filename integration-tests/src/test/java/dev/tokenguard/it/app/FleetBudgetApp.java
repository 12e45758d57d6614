package dev.tokenguard.it.app;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * One JVM of a fleet that shares a budget through a store; it knows nothing of TokenGuard (it tells a refusal by its
 * class name, and reads the agent's MBean as any JMX client would). Arguments:
 * {@code <baseUrl> <dir> <tag> <calls> <threads>}, in steps that the test paces with files in {@code dir}:
 * <ol>
 *   <li>makes {@code calls} calls, creates {@code <dir>/<tag>.1}, waits for {@code <dir>/stopped};</li>
 *   <li>makes {@code calls} calls, creates {@code <tag>.2}, waits for {@code restarted};</li>
 *   <li>makes {@code calls} calls, retrying one that is refused because the store is still away (for at most 20 s),
 *       creates {@code <tag>.3}, waits for {@code go};</li>
 *   <li>runs {@code threads} threads that each call until refused.</li>
 * </ol>
 * Prints {@code PHASE<n> OK} or {@code PHASE<n> REFUSED <message>} per call of steps 1-3, {@code REFUSED <message>}
 * per thread and {@code CALLS <n>} for step 4, then {@code TOTALUSED <value>} and {@code STATUS <line>} for the
 * default budget as the MBean {@code dev.tokenguard:type=Budgets} shows it; {@code FAILED <error>} for anything else.
 */
public final class FleetBudgetApp {
    private FleetBudgetApp() {
    }

    public static void main(String[] args) throws Exception {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(args[0]).apiKey("sk-test-fleet-key")
                .maxRetries(0).timeout(Duration.ofMinutes(2)).build();
        MBeanServer jmx = ManagementFactory.getPlatformMBeanServer(); // the app uses JMX: the agent's MBean joins it
        try {
            if (phases(client, Path.of(args[1]), args[2], Integer.parseInt(args[3]))) {
                untilRefused(client, Integer.parseInt(args[4]));
                printBudgetMBean(jmx);
            }
        } finally {
            client.close();
        }
    }

    private static void printBudgetMBean(MBeanServer jmx) throws Exception {
        ObjectName name = new ObjectName("dev.tokenguard:type=Budgets");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!jmx.isRegistered(name)) {
            if (System.nanoTime() > deadline) {
                System.out.println("FAILED no MBean " + name + " within 20 s");
                return;
            }
            Thread.sleep(20);
        }
        for (String total : (String[]) jmx.getAttribute(name, "TotalUsed")) {
            System.out.println("TOTALUSED " + total);
        }
        String status = (String) jmx.invoke(name, "status", new Object[0], new String[0]);
        for (String line : status.split("\n")) {
            if (line.startsWith("  default (")) {
                System.out.println("STATUS " + line.trim());
            }
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

    /** Steps 1-3; false when the test did not pace them (then step 4 is skipped). */
    private static boolean phases(OpenAIClient client, Path dir, String tag, int calls) throws Exception {
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
            Files.createFile(dir.resolve(tag + "." + phase));
            Path signal = dir.resolve(phase == 1 ? "stopped" : phase == 2 ? "restarted" : "go");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(170);
            while (!Files.exists(signal)) {
                if (System.nanoTime() > deadline) {
                    System.out.println("FAILED no " + signal.getFileName() + " within 170 s");
                    return false;
                }
                Thread.sleep(10);
            }
        }
        return true;
    }
}
