package dev.tokenguard.it.app;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import dev.tokenguard.api.BudgetStatus;
import dev.tokenguard.api.TokenGuard;
import dev.tokenguard.api.UsageEvent;
import dev.tokenguard.api.UsageSubscription;
import dev.tokenguard.sample.stub.FakeOpenAiServer;
import dev.tokenguard.sample.stub.RecordedRequest;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * An application that depends on the {@code tokenguard-api} jar and reacts to spend: it subscribes to usage events
 * (one listener that collects them, one that always throws), makes chat calls with the real openai-java against a
 * fake server in this JVM from several threads and from {@code main}, loads the same API a second time in an isolated
 * class loader (parent: the platform loader, holding only the API jar) and asks for the calling thread's budget.
 *
 * <p>Argument: the location of the API jar (or classes). Prints {@code ACTIVE}, {@code BUDGET-BEFORE}, {@code NAMED},
 * {@code SUBSCRIPTION}, {@code ISOLATED}, {@code ISOLATED-EVENT}, then per request the server answered
 * {@code SERVER <body marker> <total tokens>}, per event {@code EVENT <scope> <provider> <operation> <request model>
 * <input> <output> <total> <usage source> <streaming> <call site> <default budget used>}, and {@code BUDGET-AFTER}.
 */
public final class PublicApiApp {
    static final int THREADS = 4;
    static final int CALLS_PER_THREAD = 5;
    static final long WAIT_SECONDS = 60;

    private PublicApiApp() {
    }

    public static void main(String[] args) throws Exception {
        URL apiLocation = Path.of(args[0]).toUri().toURL();
        boolean active = TokenGuard.isActive();
        System.out.println("ACTIVE " + active + " loader=" + loaderOf(TokenGuard.class));
        System.out.println("BUDGET-BEFORE " + describe(TokenGuard.budget()));
        System.out.println("NAMED " + describe(TokenGuard.budget("nonexistent")));
        BlockingQueue<UsageEvent> seen = new LinkedBlockingQueue<>();
        try (FakeOpenAiServer server = FakeOpenAiServer.start();
             UsageSubscription collecting = TokenGuard.onUsage(seen::add);
             UsageSubscription throwing = TokenGuard.onUsage(PublicApiApp::failingListener)) {
            System.out.println("SUBSCRIPTION " + collecting.isActive() + " " + throwing.isActive());
            OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl())
                    .apiKey("sk-test-secret-key-123").maxRetries(0).build();
            List<Thread> workers = new ArrayList<>();
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int base = t * CALLS_PER_THREAD;
                Thread worker = new Thread(() -> {
                    try {
                        for (int i = 1; i <= CALLS_PER_THREAD; i++) {
                            ScenarioApp.syncChat(client, base + i);
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "worker-" + t);
                workers.add(worker);
                worker.start();
            }
            for (Thread w : workers) {
                w.join();
            }
            for (Throwable f : failures) {
                System.out.println("FAILED " + f);
            }
            ScenarioApp.syncChat(client, 100);
            ScenarioApp.syncChat(client, 101);
            List<UsageEvent> events = new ArrayList<>();
            if (active) {
                awaitEvents(seen, events, THREADS * CALLS_PER_THREAD + 2);
            }
            isolated(apiLocation, client, active);
            if (active) {
                // the isolated loader's call and, after it, nothing: in delivery order, any second delivery of an
                // earlier call would come before the last one
                awaitEvents(seen, events, THREADS * CALLS_PER_THREAD + 3);
            }
            events.addAll(seen);
            for (RecordedRequest r : server.requests()) {
                String body = r.body();
                int at = body.indexOf("Ticket ");
                String marker = body.substring(at, body.indexOf(':', at)).replace(' ', '-');
                System.out.println("SERVER " + marker + " " + (r.usage() == null ? "-" : r.usage().totalTokens()));
            }
            for (UsageEvent e : events) {
                System.out.println("EVENT " + e.scope() + " " + e.provider() + " " + e.operation() + " "
                        + e.requestModel() + " " + e.inputTokens() + " " + e.outputTokens() + " " + e.totalTokens()
                        + " " + e.usageSource() + " " + e.streaming() + " " + e.callSite() + " "
                        + e.budgets().get(0).usedTokens());
            }
            System.out.println("BUDGET-AFTER " + describe(TokenGuard.budget()));
            client.close();
        }
    }

    private static void failingListener(UsageEvent event) {
        throw new IllegalStateException("a bug in the application's listener");
    }

    /** The API loaded again from its jar by a loader that sees only the platform's classes besides it. */
    private static void isolated(URL apiLocation, OpenAIClient client, boolean active) throws Exception {
        try (URLClassLoader isolated = new URLClassLoader(new URL[] {apiLocation},
                ClassLoader.getPlatformClassLoader())) {
            Class<?> api = Class.forName("dev.tokenguard.api.TokenGuard", true, isolated);
            System.out.println("ISOLATED loader=" + loaderOf(api) + " same=" + (api == TokenGuard.class) + " active="
                    + api.getMethod("isActive").invoke(null));
            BlockingQueue<Object> seen = new LinkedBlockingQueue<>();
            Consumer<Object> listener = seen::add;
            try (AutoCloseable subscription = (AutoCloseable) api.getMethod("onUsage", Consumer.class)
                    .invoke(null, listener)) {
                ScenarioApp.syncChat(client, 102);
                Object event = active ? seen.poll(WAIT_SECONDS, TimeUnit.SECONDS) : seen.poll();
                System.out.println("ISOLATED-EVENT " + (event == null ? "none"
                        : (event.getClass() == UsageEvent.class) + " " + ((UsageEvent) event).totalTokens()));
            }
        }
    }

    private static void awaitEvents(BlockingQueue<UsageEvent> seen, List<UsageEvent> events, int count)
            throws InterruptedException {
        while (events.size() < count) {
            UsageEvent e = seen.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            if (e == null) {
                System.out.println("MISSING " + (count - events.size()) + " event(s)");
                return;
            }
            events.add(e);
        }
    }

    private static String loaderOf(Class<?> type) {
        ClassLoader loader = type.getClassLoader();
        return loader == null ? "bootstrap" : loader == ClassLoader.getSystemClassLoader() ? "app" : "isolated";
    }

    private static String describe(Optional<BudgetStatus> status) {
        return status.map(s -> s.name() + " " + s.scope() + " used=" + s.usedTokens() + " limit=" + s.limitTokens()
                + " remaining=" + s.remainingTokens() + " window-end=" + s.windowEnd()).orElse("empty");
    }
}
