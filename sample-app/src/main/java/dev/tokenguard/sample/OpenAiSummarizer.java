package dev.tokenguard.sample;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseOutputText;
import com.openai.models.responses.ResponseUsage;
import java.util.stream.Collectors;

/**
 * Summarizes tickets with openai-java, as any app would: mostly {@code chat().completions().create},
 * the second ticket as a chat stream (without asking for stream usage, like most apps) and the
 * third through the Responses API.
 */
final class OpenAiSummarizer implements SampleApp.Summarizer {

    private final OpenAIClient client;
    private final String model;

    OpenAiSummarizer(OpenAIClient client, String model) {
        this.client = client;
        this.model = model;
    }

    @Override
    public Summary summarize(int index, Ticket ticket) {
        return switch (index) {
            case 1 -> chatStream(ticket);
            case 2 -> responses(ticket);
            default -> chat(ticket);
        };
    }

    private ChatCompletionCreateParams chatParams(Ticket ticket) {
        return ChatCompletionCreateParams.builder()
                .model(model)
                .addSystemMessage(SampleApp.Summarizer.INSTRUCTIONS)
                .addUserMessage(ticket.text())
                .build();
    }

    private Summary chat(Ticket ticket) {
        ChatCompletion completion = client.chat().completions().create(chatParams(ticket));
        String text = completion.choices().isEmpty()
                ? "" : completion.choices().get(0).message().content().orElse("");
        CompletionUsage usage = completion.usage().orElse(null);
        return usage == null
                ? new Summary("chat", null, null, text)
                : new Summary("chat", usage.promptTokens(), usage.completionTokens(), text);
    }

    private Summary chatStream(Ticket ticket) {
        StringBuilder text = new StringBuilder();
        CompletionUsage[] usage = new CompletionUsage[1];
        try (StreamResponse<ChatCompletionChunk> stream =
                     client.chat().completions().createStreaming(chatParams(ticket))) {
            stream.stream().forEach(chunk -> {
                chunk.choices().forEach(choice -> choice.delta().content().ifPresent(text::append));
                chunk.usage().ifPresent(u -> usage[0] = u);
            });
        }
        return usage[0] == null
                ? new Summary("chat-stream", null, null, text.toString())
                : new Summary("chat-stream", usage[0].promptTokens(), usage[0].completionTokens(), text.toString());
    }

    private Summary responses(Ticket ticket) {
        Response response = client.responses().create(ResponseCreateParams.builder()
                .model(model)
                .instructions(SampleApp.Summarizer.INSTRUCTIONS)
                .input(ticket.text())
                .build());
        String text = response.output().stream()
                .flatMap(item -> item.message().stream())
                .flatMap(message -> message.content().stream())
                .flatMap(content -> content.outputText().stream())
                .map(ResponseOutputText::text)
                .collect(Collectors.joining());
        ResponseUsage usage = response.usage().orElse(null);
        return usage == null
                ? new Summary("responses", null, null, text)
                : new Summary("responses", usage.inputTokens(), usage.outputTokens(), text);
    }
}
