package dev.tokenguard.sample.scenarios;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.AnthropicClientAsync;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClientAsync;
import com.anthropic.core.http.AsyncStreamResponse;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.models.beta.messages.BetaMessage;
import com.anthropic.models.beta.messages.BetaRawMessageStreamEvent;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCountTokensParams;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;

import java.io.PrintStream;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The anthropic-java scenarios, written once and run two ways: in the test's own JVM with the agent
 * installed in process, and in a forked JVM with the built agent jar on a real {@code -javaagent}
 * flag. The code is what an app would write and knows nothing of TokenGuard (it recognises the
 * refusal only by its class name); each call prints one line, {@code OK ...} or
 * {@code REFUSED <class> <message> loader=<loader>} (see {@link ScenarioRunner}).
 */
public final class AnthropicScenarios {
    public static final String MODEL = "claude-haiku-4-5";
    public static final String API_KEY = "sk-ant-forked-secret-key-4711";

    private AnthropicScenarios() {
    }

    /** Runs {@code scenario} against {@code baseUrl}: up to {@code calls} calls, stopping soon after a refusal. */
    public static void run(String scenario, String baseUrl, int calls, PrintStream out) throws Exception {
        AnthropicClient client = AnthropicOkHttpClient.builder().baseUrl(baseUrl).apiKey(API_KEY).maxRetries(0)
                .build();
        ScenarioRunner runner = new ScenarioRunner(out);
        try {
            switch (scenario) {
                case "sync" -> runner.repeat(calls, i -> sync(client, i));
                case "stream" -> runner.repeat(calls, i -> stream(client, i));
                case "beta" -> runner.repeat(calls, i -> beta(client, i));
                case "beta-stream" -> runner.repeat(calls, i -> betaStream(client, i));
                case "stream-abandoned" -> runner.repeat(calls, i -> streamAbandoned(client, i));
                case "count-tokens" -> runner.repeat(calls, i -> countTokens(client, i));
                case "async", "async-stream" -> {
                    AnthropicClientAsync async = AnthropicOkHttpClientAsync.builder().baseUrl(baseUrl).apiKey(API_KEY)
                            .maxRetries(0).build();
                    try {
                        runner.repeat(calls, i -> scenario.equals("async") ? async(async, i) : asyncStream(async, i));
                    } finally {
                        async.close();
                    }
                }
                default -> throw new IllegalArgumentException("unknown scenario " + scenario);
            }
        } finally {
            client.close();
        }
    }

    static MessageCreateParams params(int i) {
        return MessageCreateParams.builder().model(MODEL).maxTokens(256)
                .system("You summarise support tickets in one sentence.")
                .addUserMessage("Ticket " + i + ": the badge reader at door " + (i % 5) + " rejects every badge "
                        + "y".repeat(i % 11 * 4))
                .build();
    }

    static com.anthropic.models.beta.messages.MessageCreateParams betaParams(int i) {
        return com.anthropic.models.beta.messages.MessageCreateParams.builder().model(MODEL).maxTokens(256)
                .addUserMessage("Beta ticket " + i + ": the lift is stuck on floor " + (i % 9)).build();
    }

    static String sync(AnthropicClient client, int i) {
        Message message = client.messages().create(params(i));
        return message.usage().inputTokens() + " " + message.usage().outputTokens();
    }

    static String beta(AnthropicClient client, int i) {
        BetaMessage message = client.beta().messages().create(betaParams(i));
        return message.usage().inputTokens() + " " + message.usage().outputTokens();
    }

    static String stream(AnthropicClient client, int i) {
        int events = 0;
        int messageDeltas = 0;
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params(i))) {
            for (RawMessageStreamEvent event : (Iterable<RawMessageStreamEvent>) stream.stream()::iterator) {
                events++;
                if (event.isMessageDelta()) {
                    messageDeltas++;
                }
            }
        }
        return "- - events=" + events + " messageDeltas=" + messageDeltas;
    }

    static String betaStream(AnthropicClient client, int i) {
        int events = 0;
        try (StreamResponse<BetaRawMessageStreamEvent> stream = client.beta().messages()
                .createStreaming(betaParams(i))) {
            for (BetaRawMessageStreamEvent ignored : (Iterable<BetaRawMessageStreamEvent>) stream.stream()::iterator) {
                events++;
            }
        }
        return "- - events=" + events;
    }

    static String streamAbandoned(AnthropicClient client, int i) {
        int events = 0;
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params(i))) {
            var it = stream.stream().iterator();
            while (it.hasNext() && events < 3) {
                it.next();
                events++;
            }
        }
        return "- - events=" + events;
    }

    static String countTokens(AnthropicClient client, int i) {
        long counted = client.messages().countTokens(MessageCountTokensParams.builder().model(MODEL)
                .addUserMessage("Ticket " + i + " counted").build()).inputTokens();
        return counted + " 0";
    }

    static String async(AnthropicClientAsync client, int i) throws InterruptedException {
        try {
            Message message = client.messages().create(params(i)).get();
            return message.usage().inputTokens() + " " + message.usage().outputTokens();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    static String asyncStream(AnthropicClientAsync client, int i) throws Exception {
        AtomicInteger events = new AtomicInteger();
        AsyncStreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params(i));
        stream.subscribe(e -> events.incrementAndGet());
        stream.onCompleteFuture().get();
        return "- - events=" + events.get();
    }
}
