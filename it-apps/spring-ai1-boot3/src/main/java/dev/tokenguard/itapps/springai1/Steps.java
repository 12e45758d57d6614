package dev.tokenguard.itapps.springai1;

import dev.tokenguard.api.TokenGuard;
import dev.tokenguard.api.UsageEvent;
import dev.tokenguard.api.UsageSubscription;
import org.springframework.ai.anthropic.AnthropicChatModel;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.ai.openai.api.OpenAiApi;
import org.springframework.ai.openai.api.OpenAiApi.ChatCompletionChunk;
import org.springframework.ai.openai.api.OpenAiApi.ChatCompletionMessage;
import org.springframework.ai.openai.api.OpenAiApi.ChatCompletionRequest;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.CommandLineRunner;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;

import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs the steps named by {@code --steps=a,b,c} in order, on the main thread, and prints one line per step:
 * {@code STEP <name> ok <facts>}, {@code STEP <name> refused <exception type> <where the refusal was found>}
 * or {@code STEP <name> failed <exception type>}.
 */
@Component
public class Steps implements CommandLineRunner {
    private static final String REFUSAL = "dev.tokenguard.api.BudgetExhaustedException";

    private final ChatClient openAi;
    private final ChatClient anthropic;
    private final EmbeddingModel embeddings;
    private final WebClient.Builder webClient;
    private final String openAiBaseUrl;
    private final List<String> steps;

    public Steps(OpenAiChatModel openAiModel, AnthropicChatModel anthropicModel, EmbeddingModel embeddings,
                 WebClient.Builder webClient, @Value("${spring.ai.openai.base-url}") String openAiBaseUrl,
                 @Value("${steps:}") List<String> steps) {
        this.openAi = ChatClient.create(openAiModel);
        this.anthropic = ChatClient.create(anthropicModel);
        this.embeddings = embeddings;
        this.webClient = webClient;
        this.openAiBaseUrl = openAiBaseUrl;
        this.steps = steps;
    }

    @Override
    public void run(String... args) {
        for (String step : steps) {
            if (step.startsWith("fault:")) {
                fault(step.substring("fault:".length()));
                continue;
            }
            try {
                System.out.println("STEP " + step + " ok " + run(step));
            } catch (RuntimeException e) {
                String where = e.getClass().getName().equals(REFUSAL) ? "direct" : refusalInCauses(e) ? "cause" : null;
                if (where != null) {
                    System.out.println("STEP " + step + " refused " + e.getClass().getName() + " " + where);
                } else {
                    System.out.println("STEP " + step + " failed " + e.getClass().getName() + ": " + e.getMessage());
                }
            }
        }
    }

    private static boolean refusalInCauses(Throwable e) {
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t.getClass().getName().equals(REFUSAL)) {
                return true;
            }
        }
        return false;
    }

    private String run(String step) {
        return switch (step) {
            case "openai-call" -> "text=" + openAi.prompt().user("My order 1234 has not arrived, what can I do?")
                    .call().content().length();
            case "openai-stream" -> stream(openAi.prompt().user("Please reset the password of my account")
                    .stream().chatResponse());
            case "openai-stream-usage" -> stream(openAi.prompt().user("I was billed twice this month, please help")
                    .options(OpenAiChatOptions.builder().streamUsage(true).build()).stream().chatResponse());
            case "openai-embed" -> "vectors=" + embeddings.embed(List.of("refund policy", "delivery times")).size();
            case "openai-api-resubscribe" -> resubscribe();
            case "anthropic-call" -> "text=" + anthropic.prompt().user("Where is my parcel? It is a week late.")
                    .call().content().length();
            case "anthropic-stream" -> stream(anthropic.prompt().user("Can I change the address of my order?")
                    .stream().chatResponse());
            case "anthropic-tool" -> tool();
            case "anthropic-stream-tool" -> streamTool();
            case "tokenguard-api" -> tokenGuardApi();
            default -> throw new IllegalArgumentException("unknown step " + step);
        };
    }

    /** Responses the app saw and the most usage any of them carried (0: none reported usage). */
    private static String stream(Flux<ChatResponse> flux) {
        List<ChatResponse> responses = flux.collectList().block();
        long usage = 0;
        for (ChatResponse r : responses) {
            Integer total = r.getMetadata().getUsage().getTotalTokens();
            usage = Math.max(usage, total == null ? 0 : total);
        }
        return "responses=" + responses.size() + " usage=" + usage;
    }

    /**
     * A step of the fault matrix, {@code <name>=<base url>=<scenario>}: run on a thread of its own named
     * {@code fault-<name>}, it prints {@code STEP <name>} on stderr first and {@code RESULT <name> <outcome>} on
     * stdout, what the app saw. Scenario {@code streams}: two chat streams in a row through the app's own
     * {@code OpenAiApi} for that base URL (the OpenAI base URL {@code .../v1} without its {@code /v1}), neither
     * asking for usage.
     */
    private void fault(String step) {
        String[] parts = step.split("=", 3);
        String name = parts[0];
        String baseUrl = parts[1].endsWith("/v1") ? parts[1].substring(0, parts[1].length() - 3) : parts[1];
        if (!parts[2].equals("streams")) {
            throw new IllegalArgumentException("unknown fault scenario " + parts[2]);
        }
        String[] outcome = new String[1];
        Thread t = new Thread(() -> {
            OpenAiApi api = OpenAiApi.builder().baseUrl(baseUrl).apiKey(System.getenv("OPENAI_API_KEY"))
                    .webClientBuilder(webClient).build();
            outcome[0] = faultStream(api) + " ; then " + faultStream(api);
        }, "fault-" + name);
        System.err.println("STEP " + name);
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        System.out.println("RESULT " + name + " " + outcome[0]);
        System.out.flush();
    }

    /** One stream: the chunks the app saw, those without choices, the text and the last usage. */
    private static String faultStream(OpenAiApi api) {
        try {
            List<ChatCompletionChunk> chunks = api.chatCompletionStream(new ChatCompletionRequest(
                    List.of(new ChatCompletionMessage("Say something about fault matrices.",
                            ChatCompletionMessage.Role.USER)), "gpt-4o-mini", 0.2, true)).collectList().block();
            int usageChunks = 0;
            StringBuilder text = new StringBuilder();
            String usage = "none";
            for (ChatCompletionChunk c : chunks) {
                if (c.choices() == null || c.choices().isEmpty()) {
                    usageChunks++;
                } else {
                    for (ChatCompletionChunk.ChunkChoice choice : c.choices()) {
                        if (choice.delta() != null && choice.delta().content() != null) {
                            text.append(choice.delta().content());
                        }
                    }
                }
                if (c.usage() != null) {
                    usage = c.usage().promptTokens() + "/" + c.usage().completionTokens();
                }
            }
            return "STREAM chunks=" + chunks.size() + " usageChunks=" + usageChunks + " text='" + text + "' usage="
                    + usage;
        } catch (RuntimeException e) {
            return "THROWN " + e.getClass().getName() + ": " + String.valueOf(e.getMessage()).replace('\n', ' ');
        }
    }

    /** The app's own OpenAiApi: one Flux subscribed twice, two requests. */
    private String resubscribe() {
        OpenAiApi api = OpenAiApi.builder().baseUrl(openAiBaseUrl).apiKey("sk-test-not-a-real-key")
                .webClientBuilder(webClient).build();
        Flux<ChatCompletionChunk> flux = api.chatCompletionStream(new ChatCompletionRequest(
                List.of(new ChatCompletionMessage("Is the shop open on Sunday?", ChatCompletionMessage.Role.USER)),
                "gpt-4o-mini", 0.2, true));
        int first = flux.collectList().block().size();
        int second = flux.collectList().block().size();
        return "chunks=" + first + "+" + second;
    }

    /**
     * The optional TokenGuard API, nested in this Boot jar like any library: whether the agent's copy is the one the
     * Boot class loader found, the event of one chat call, and the budget of this thread afterwards.
     */
    private String tokenGuardApi() {
        BlockingQueue<UsageEvent> seen = new LinkedBlockingQueue<>();
        try (UsageSubscription subscription = TokenGuard.onUsage(seen::add)) {
            int text = openAi.prompt().user("Has my refund for order 5678 been sent?").call().content().length();
            UsageEvent event = TokenGuard.isActive() ? seen.poll(60, TimeUnit.SECONDS) : seen.poll();
            return "active=" + TokenGuard.isActive() + " bootstrap=" + (TokenGuard.class.getClassLoader() == null)
                    + " subscribed=" + subscription.isActive() + " text=" + text
                    + " event=" + (event == null ? "none" : event.provider() + "/" + event.operation() + "/"
                    + event.totalTokens() + "/" + event.scope())
                    + " budget=" + TokenGuard.budget().map(b -> b.scope() + "/" + b.usedTokens()).orElse("none");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the usage event", e);
        }
    }

    /** The tool loop of a stream: Spring AI sends the second request from a Reactor worker thread. */
    private String streamTool() {
        WeatherTools tools = new WeatherTools();
        List<String> parts = anthropic.prompt().user("What is the weather in Porto?").tools(tools).stream().content()
                .collectList().block();
        return "toolCalls=" + tools.calls.get() + " parts=" + parts.size();
    }

    private String tool() {
        WeatherTools tools = new WeatherTools();
        String text = anthropic.prompt().user("What is the weather in Lisbon?").tools(tools).call().content();
        return "toolCalls=" + tools.calls.get() + " text=" + text.length();
    }
}
