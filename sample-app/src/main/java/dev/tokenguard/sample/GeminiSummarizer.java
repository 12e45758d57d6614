package dev.tokenguard.sample;

import com.google.genai.Client;
import com.google.genai.ResponseStream;
import com.google.genai.types.Content;
import com.google.genai.types.GenerateContentConfig;
import com.google.genai.types.GenerateContentResponse;
import com.google.genai.types.GenerateContentResponseUsageMetadata;
import com.google.genai.types.Part;
import java.util.Optional;

/**
 * Summarizes tickets with the Google GenAI SDK ({@code com.google.genai:google-genai}), as any app would: mostly
 * {@code models.generateContent}, the second ticket as a stream ({@code models.generateContentStream}).
 *
 * <p>The input tokens of a summary are {@code promptTokenCount} (cached tokens included); the output tokens are
 * {@code candidatesTokenCount} plus {@code thoughtsTokenCount} (a thinking model's reasoning, billed as output).
 * A stream's chunks carry the counts so far: the last chunk's are the totals.
 */
final class GeminiSummarizer implements SampleApp.Summarizer {

    /** Room for a one-sentence summary. */
    static final int MAX_TOKENS = 256;

    private final Client client;
    private final String model;

    GeminiSummarizer(Client client, String model) {
        this.client = client;
        this.model = model;
    }

    @Override
    public Summary summarize(int index, Ticket ticket) {
        return index == 1 ? stream(ticket) : generate(ticket);
    }

    private static GenerateContentConfig config() {
        return GenerateContentConfig.builder()
                .systemInstruction(Content.fromParts(Part.fromText(SampleApp.Summarizer.INSTRUCTIONS)))
                .maxOutputTokens(MAX_TOKENS)
                .build();
    }

    private Summary generate(Ticket ticket) {
        GenerateContentResponse response = client.models.generateContent(model, ticket.text(), config());
        return summary("generate", textOf(response), response.usageMetadata());
    }

    private Summary stream(Ticket ticket) {
        StringBuilder text = new StringBuilder();
        Optional<GenerateContentResponseUsageMetadata> usage = Optional.empty();
        try (ResponseStream<GenerateContentResponse> stream =
                     client.models.generateContentStream(model, ticket.text(), config())) {
            for (GenerateContentResponse chunk : stream) {
                text.append(textOf(chunk));
                if (chunk.usageMetadata().isPresent()) {
                    usage = chunk.usageMetadata();
                }
            }
        }
        return summary("stream", text.toString(), usage);
    }

    private static String textOf(GenerateContentResponse response) {
        String text = response.text();
        return text == null ? "" : text;
    }

    private static Summary summary(String method, String text, Optional<GenerateContentResponseUsageMetadata> usage) {
        Optional<Integer> prompt = usage.flatMap(GenerateContentResponseUsageMetadata::promptTokenCount);
        Optional<Integer> candidates = usage.flatMap(GenerateContentResponseUsageMetadata::candidatesTokenCount);
        if (prompt.isEmpty() || candidates.isEmpty()) {
            return new Summary(method, null, null, text);
        }
        long thoughts = usage.flatMap(GenerateContentResponseUsageMetadata::thoughtsTokenCount).orElse(0);
        return new Summary(method, (long) prompt.get(), candidates.get() + thoughts, text);
    }
}
