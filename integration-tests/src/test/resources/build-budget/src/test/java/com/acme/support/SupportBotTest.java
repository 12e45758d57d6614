package com.acme.support;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.ChatModel;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import static org.junit.jupiter.api.Assertions.assertFalse;

/** Tests that ask a model, each once, in a fixed order; the build's token budget decides how many may. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SupportBotTest {
    static OpenAIClient client;

    @BeforeAll
    static void connect() {
        client = OpenAIOkHttpClient.builder().baseUrl(System.getProperty("support.llm.base-url"))
                .apiKey("sk-build-secret-key-456").maxRetries(0).build();
    }

    @AfterAll
    static void close() {
        client.close();
    }

    static ChatCompletionCreateParams ask(String question) {
        return ChatCompletionCreateParams.builder().model(ChatModel.GPT_4O_MINI)
                .addSystemMessage("You are the support bot of ACME printers.")
                .addUserMessage(question).build();
    }

    @Test
    @Order(1)
    void summarisesATicket() {
        ChatCompletion answer = client.chat().completions().create(ask("Summarise: the printer jams every morning."));
        assertFalse(answer.choices().isEmpty());
    }

    @Test
    @Order(2)
    void classifiesATicket() {
        ChatCompletion answer = client.chat().completions().create(ask("Is 'toner smeared' hardware or software?"));
        assertFalse(answer.choices().isEmpty());
    }

    @Test
    @Order(3)
    void translatesAReply() {
        ChatCompletion answer = client.chat().completions().create(ask("Translate to French: we will call you."));
        assertFalse(answer.choices().isEmpty());
    }

    @Test
    @Order(4)
    void draftsAnAnswer() {
        ChatCompletion answer = client.chat().completions().create(ask("Draft a reply to: my printer is on fire."));
        assertFalse(answer.choices().isEmpty());
    }
}
