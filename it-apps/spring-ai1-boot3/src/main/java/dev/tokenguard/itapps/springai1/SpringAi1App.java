package dev.tokenguard.itapps.springai1;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A small Spring Boot 3 service that calls OpenAI and Anthropic through Spring AI 1.1 (ChatClient, ChatModel,
 * EmbeddingModel, a tool, and OpenAiApi itself) and prints one line per step. It knows nothing of TokenGuard.
 */
@SpringBootApplication
public class SpringAi1App {

    public static void main(String[] args) {
        System.exit(SpringApplication.exit(SpringApplication.run(SpringAi1App.class, args)));
    }
}
