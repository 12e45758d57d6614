package dev.tokenguard.springai2;

import org.springframework.ai.anthropic.AnthropicChatModel;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.embedding.EmbeddingModel;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

import java.util.ArrayList;
import java.util.List;

/**
 * A small service on Spring Boot 4 and Spring AI 2.0 that knows nothing of TokenGuard: it runs the
 * steps named on its command line, one after the other on the main thread, through Spring AI's
 * {@code ChatClient} over OpenAI and Anthropic, and Spring AI's OpenAI embedding model, and prints
 * one line per step: {@code OK <step> <what came back>} or
 * {@code ERROR <step> <exception class> causes=<class>,<class>,...}.
 *
 * <p>Steps: {@code openai-call}, {@code openai-stream}, {@code openai-embed}, {@code openai-tools}
 * (a question the model answers through the {@link WeatherTools} tool), {@code anthropic-call},
 * {@code anthropic-stream}, {@code anthropic-tools}. The providers' base URLs come from the usual
 * Spring AI properties, e.g. {@code --spring.ai.openai.base-url=http://127.0.0.1:8080/v1}.
 */
@SpringBootApplication
public class SpringAi2App {

    /** Runs the steps and ends, closing the context (and with it the SDK clients' connection pools). */
    public static void main(String[] args) {
        System.exit(SpringApplication.exit(SpringApplication.run(SpringAi2App.class, args)));
    }

    @Bean
    ApplicationRunner steps(OpenAiChatModel openAi, AnthropicChatModel anthropic, EmbeddingModel embeddings) {
        ChatClient openAiClient = ChatClient.create(openAi);
        ChatClient anthropicClient = ChatClient.create(anthropic);
        return arguments -> run(arguments, openAiClient, anthropicClient, embeddings);
    }

    private static void run(ApplicationArguments arguments, ChatClient openAi, ChatClient anthropic,
                            EmbeddingModel embeddings) {
        List<String> steps = arguments.getNonOptionArgs();
        for (int i = 0; i < steps.size(); i++) {
            String step = steps.get(i);
            String question = "Step " + (i + 1) + ": summarise ticket " + (1000 + i) + " about a failed login";
            try {
                String answer = switch (step) {
                    case "openai-call" -> text(openAi.prompt().user(question).call().content());
                    case "openai-stream" -> streamed(openAi.prompt().user(question).stream().content().collectList().block());
                    case "openai-embed" -> "dimensions=" + embeddings.embed(question).length;
                    case "openai-tools" -> text(openAi.prompt().user("What is the weather in Lisbon?")
                            .tools(new WeatherTools()).call().content());
                    case "anthropic-call" -> text(anthropic.prompt().user(question).call().content());
                    case "anthropic-stream" -> streamed(anthropic.prompt().user(question).stream().content().collectList()
                            .block());
                    case "anthropic-tools" -> text(anthropic.prompt().user("What is the weather in Porto?")
                            .tools(new WeatherTools()).call().content());
                    default -> throw new IllegalArgumentException("unknown step " + step);
                };
                System.out.println("OK " + step + " " + answer);
            } catch (RuntimeException e) {
                System.out.println("ERROR " + step + " " + e.getClass().getName() + " causes=" + causes(e));
            }
        }
    }

    private static String text(String content) {
        return "chars=" + (content == null ? 0 : content.length());
    }

    private static String streamed(List<String> parts) {
        return "parts=" + (parts == null ? 0 : parts.size()) + " chars="
                + (parts == null ? 0 : String.join("", parts).length());
    }

    /** The class names of {@code e}'s causes, outermost first. */
    private static String causes(Throwable e) {
        List<String> names = new ArrayList<>();
        for (Throwable cause = e.getCause(); cause != null && names.size() < 10; cause = cause.getCause()) {
            names.add(cause.getClass().getName());
        }
        return String.join(",", names);
    }
}
