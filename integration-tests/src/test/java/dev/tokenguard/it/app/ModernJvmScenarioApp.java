package dev.tokenguard.it.app;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.ChatModel;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A service as they run on current LTS releases, using openai-java and knowing nothing of TokenGuard (it knows the
 * refusal by its class name only).
 *
 * <ul>
 *   <li>{@code wait-for-attach <baseUrl> <calls>}: one call, then {@code READY <pid>}, then it waits
 *       until it reads {@code GO} on stdin (sent once an agent has been attached), then calls until
 *       refused.</li>
 *   <li>{@code virtual-requests <baseUrl> <requests> <calls>}: each request runs on a virtual thread of its own
 *       ({@code Executors.newVirtualThreadPerTaskExecutor()}, Java 21+) and makes up to {@code calls} calls until
 *       one is refused; prints {@code REQUEST <r> OK <n> REFUSED <m>}. The user message of each call names its
 *       request ({@code Request r call c}). Then it reads the session-log directory until every one of those
 *       requests' sessions has ended (up to one minute) and prints {@code ENDED <n>}.</li>
 * </ul>
 */
public final class ModernJvmScenarioApp {
    private ModernJvmScenarioApp() {
    }

    public static void main(String[] args) throws Exception {
        String scenario = args[0];
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(args[1]).apiKey("sk-test-secret-key-123")
                .maxRetries(0).build();
        switch (scenario) {
            case "wait-for-attach" -> waitForAttach(client, Integer.parseInt(args[2]));
            case "virtual-requests" -> virtualRequests(client, Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        }
        client.close();
    }

    private static void waitForAttach(OpenAIClient client, int calls) throws Exception {
        System.out.println("BEFORE " + chat(client, 0, 0));
        System.out.println("READY " + ProcessHandle.current().pid());
        // the test attaches the agent, and says "GO" once the attach command has returned
        String go = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8))
                .readLine();
        if (!"GO".equals(go)) {
            throw new IllegalStateException("expected GO on stdin, got " + go);
        }
        for (int c = 1; c <= calls; c++) {
            String outcome = callOrRefusal(client, 0, c);
            System.out.println(outcome);
            if (outcome.startsWith("REFUSED")) {
                break;
            }
        }
    }

    private static void virtualRequests(OpenAIClient client, int requests, int calls) throws Exception {
        List<String> lines = new ArrayList<>();
        // compiled for Java 17: the Java 21 factory is looked up at run time
        ExecutorService perRequest = (ExecutorService) Executors.class
                .getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        List<Future<String>> done = new ArrayList<>();
        for (int r = 0; r < requests; r++) {
            int request = r;
            done.add(perRequest.submit(() -> request(client, request, calls)));
        }
        for (Future<String> f : done) {
            lines.add(f.get());
        }
        perRequest.shutdown();
        if (!perRequest.awaitTermination(1, TimeUnit.MINUTES)) {
            throw new IllegalStateException("the requests' virtual threads did not end");
        }
        lines.forEach(System.out::println);
        System.out.println("ENDED " + endedSessions(Path.of("tokenguard-sessions"), requests));
    }

    /** One request: calls until one is refused. */
    private static String request(OpenAIClient client, int request, int calls) {
        int ok = 0;
        int refused = 0;
        String virtual = Thread.currentThread().toString().startsWith("VirtualThread") ? "virtual" : "platform";
        for (int c = 0; c < calls && refused == 0; c++) {
            if (callOrRefusal(client, request, c).startsWith("OK")) {
                ok++;
            } else {
                refused++;
            }
        }
        return "REQUEST " + request + " OK " + ok + " REFUSED " + refused + " " + virtual;
    }

    /**
     * Waits until {@code expected} session files hold a {@code session_end}: the sessions of requests whose virtual
     * threads ended, released while the JVM runs on (not at shutdown).
     */
    private static int endedSessions(Path dir, int expected) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        int ended = 0;
        while (System.nanoTime() < deadline) {
            ended = 0;
            if (Files.isDirectory(dir)) {
                try (Stream<Path> files = Files.list(dir)) {
                    for (Path f : files.toList()) {
                        if (Files.readString(f, StandardCharsets.UTF_8).contains("\"event\":\"session_end\"")) {
                            ended++;
                        }
                    }
                }
            }
            if (ended >= expected) {
                return ended;
            }
            Thread.sleep(50);
        }
        return ended;
    }

    private static String callOrRefusal(OpenAIClient client, int request, int call) {
        try {
            return "OK " + chat(client, request, call);
        } catch (RuntimeException e) {
            if (!e.getClass().getSimpleName().equals("BudgetExhaustedException")) {
                throw e;
            }
            return "REFUSED " + e.getMessage();
        }
    }

    private static String chat(OpenAIClient client, int request, int call) {
        ChatCompletion completion = client.chat().completions().create(ChatCompletionCreateParams.builder()
                .model(ChatModel.GPT_4O_MINI)
                .addSystemMessage("You answer one customer request in one sentence.")
                .addUserMessage("Request " + request + " call " + call + ": where is my parcel " + "x".repeat(call * 7))
                .build());
        return completion.usage().map(u -> u.promptTokens() + " " + u.completionTokens()).orElse("- -");
    }
}
