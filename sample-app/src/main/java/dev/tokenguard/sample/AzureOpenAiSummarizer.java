package dev.tokenguard.sample;

import com.azure.ai.openai.OpenAIClient;
import com.azure.ai.openai.models.ChatChoice;
import com.azure.ai.openai.models.ChatCompletions;
import com.azure.ai.openai.models.ChatCompletionsOptions;
import com.azure.ai.openai.models.ChatRequestMessage;
import com.azure.ai.openai.models.ChatRequestSystemMessage;
import com.azure.ai.openai.models.ChatRequestUserMessage;
import com.azure.ai.openai.models.ChatResponseMessage;
import com.azure.ai.openai.models.CompletionsUsage;
import java.util.List;

/**
 * Summarizes tickets with Azure OpenAI's client ({@code com.azure:azure-ai-openai}), as any app would: mostly
 * {@code getChatCompletions}, the second ticket as a chat stream ({@code getChatCompletionsStream}, without asking
 * for stream usage, like most apps). The model is the deployment's name.
 */
final class AzureOpenAiSummarizer implements SampleApp.Summarizer {

    /** Room for a one-sentence summary. */
    static final int MAX_TOKENS = 256;

    private final OpenAIClient client;
    private final String deployment;

    AzureOpenAiSummarizer(OpenAIClient client, String deployment) {
        this.client = client;
        this.deployment = deployment;
    }

    @Override
    public Summary summarize(int index, Ticket ticket) {
        return index == 1 ? chatStream(ticket) : chat(ticket);
    }

    private static ChatCompletionsOptions options(Ticket ticket) {
        List<ChatRequestMessage> messages = List.of(new ChatRequestSystemMessage(SampleApp.Summarizer.INSTRUCTIONS),
                new ChatRequestUserMessage(ticket.text()));
        return new ChatCompletionsOptions(messages).setMaxTokens(MAX_TOKENS);
    }

    private Summary chat(Ticket ticket) {
        ChatCompletions completions = client.getChatCompletions(deployment, options(ticket));
        StringBuilder text = new StringBuilder();
        append(completions, text, false);
        CompletionsUsage usage = completions.getUsage();
        return usage == null
                ? new Summary("chat", null, null, text.toString())
                : new Summary("chat", (long) usage.getPromptTokens(), (long) usage.getCompletionTokens(),
                        text.toString());
    }

    private Summary chatStream(Ticket ticket) {
        StringBuilder text = new StringBuilder();
        CompletionsUsage usage = null;
        for (ChatCompletions chunk : client.getChatCompletionsStream(deployment, options(ticket))) {
            append(chunk, text, true);
            if (chunk.getUsage() != null) {
                usage = chunk.getUsage();
            }
        }
        return usage == null
                ? new Summary("chat-stream", null, null, text.toString())
                : new Summary("chat-stream", (long) usage.getPromptTokens(), (long) usage.getCompletionTokens(),
                        text.toString());
    }

    /** Appends the first choice's text (its delta in a stream chunk). */
    private static void append(ChatCompletions completions, StringBuilder text, boolean delta) {
        List<ChatChoice> choices = completions.getChoices();
        if (choices == null || choices.isEmpty()) {
            return;
        }
        ChatResponseMessage message = delta ? choices.get(0).getDelta() : choices.get(0).getMessage();
        if (message != null && message.getContent() != null) {
            text.append(message.getContent());
        }
    }
}
