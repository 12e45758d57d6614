package dev.tokenguard.sample;

import io.github.ollama4j.Ollama;
import io.github.ollama4j.exceptions.OllamaException;
import io.github.ollama4j.models.chat.OllamaChatMessage;
import io.github.ollama4j.models.chat.OllamaChatMessageRole;
import io.github.ollama4j.models.chat.OllamaChatRequest;
import io.github.ollama4j.models.chat.OllamaChatResponseModel;
import io.github.ollama4j.models.chat.OllamaChatResult;
import io.github.ollama4j.models.generate.OllamaGenerateRequest;
import io.github.ollama4j.models.response.OllamaResult;
import io.github.ollama4j.utils.Options;
import io.github.ollama4j.utils.OptionsBuilder;

/**
 * Summarizes tickets with ollama4j ({@code io.github.ollama4j:ollama4j}), as any app would: mostly {@code chat},
 * the second ticket as a chat stream (a token handler that receives the answer piece by piece) and the third
 * through {@code generate}. Ollama reports the tokens as {@code prompt_eval_count} (input) and
 * {@code eval_count} (output) of its last, {@code "done": true} object.
 */
final class OllamaSummarizer implements SampleApp.Summarizer {

    /** Room for a one-sentence summary ({@code num_predict}). */
    static final int MAX_TOKENS = 256;

    private final Ollama client;
    private final String model;

    OllamaSummarizer(Ollama client, String model) {
        this.client = client;
        this.model = model;
    }

    @Override
    public Summary summarize(int index, Ticket ticket) {
        try {
            return switch (index) {
                case 1 -> chat(ticket, true);
                case 2 -> generate(ticket);
                default -> chat(ticket, false);
            };
        } catch (OllamaException e) {
            throw new IllegalStateException("Ollama call failed: " + e.getMessage(), e);
        }
    }

    private static Options options() {
        return new OptionsBuilder().setNumPredict(MAX_TOKENS).build();
    }

    private Summary chat(Ticket ticket, boolean streaming) throws OllamaException {
        OllamaChatRequest request = OllamaChatRequest.builder()
                .withModel(model)
                .withMessage(OllamaChatMessageRole.SYSTEM, SampleApp.Summarizer.INSTRUCTIONS)
                .withMessage(OllamaChatMessageRole.USER, ticket.text())
                .withOptions(options())
                .build();
        StringBuilder streamed = new StringBuilder();
        OllamaChatResult result = streaming
                ? client.chat(request, piece -> {
                    if (piece.getMessage() != null && piece.getMessage().getResponse() != null) {
                        streamed.append(piece.getMessage().getResponse());
                    }
                })
                : client.chat(request, null);
        OllamaChatResponseModel response = result.getResponseModel();
        OllamaChatMessage message = response == null ? null : response.getMessage();
        String text = streaming ? streamed.toString()
                : message == null || message.getResponse() == null ? "" : message.getResponse();
        String method = streaming ? "chat-stream" : "chat";
        return response == null ? new Summary(method, null, null, text)
                : summary(method, response.getPromptEvalCount(), response.getEvalCount(), text);
    }

    private Summary generate(Ticket ticket) throws OllamaException {
        OllamaResult result = client.generate(OllamaGenerateRequest.builder()
                .withModel(model)
                .withSystem(SampleApp.Summarizer.INSTRUCTIONS)
                .withPrompt(ticket.text())
                .withOptions(options())
                .build(), null);
        String text = result.getResponse() == null ? "" : result.getResponse();
        return summary("generate", result.getPromptEvalCount(), result.getEvalCount(), text);
    }

    private static Summary summary(String method, Integer input, Integer output, String text) {
        return input == null || output == null ? new Summary(method, null, null, text)
                : new Summary(method, (long) input, (long) output, text);
    }
}
