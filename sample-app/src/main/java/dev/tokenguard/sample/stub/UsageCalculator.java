package dev.tokenguard.sample.stub;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * Decides, deterministically, how many tokens a fake server reports for a request, and writes an
 * answer text of about that many tokens.
 *
 * <p>Rules, {@code n} being the request's sequence number:
 * <ul>
 *   <li>input = prompt characters / 4 + 1 + (n * 7 % 11) (always at least 1);</li>
 *   <li>output = 20 + (n * 37 % 50), capped by the request's max output tokens when given;</li>
 *   <li>OpenAI only: cached = input / 2 on every third request (n % 3 == 0), else 0;
 *       reasoning = output / 4 when the model name starts with {@code o} or {@code gpt-5}, else 0;
 *       embeddings have no output, cached or reasoning tokens;</li>
 *   <li>Anthropic ({@link FakeAnthropicServer}) adds the cache figures the server was set to report
 *       on top of the input and has no reasoning tokens.</li>
 * </ul>
 */
final class UsageCalculator {

    private static final String[] WORDS = (
            "so the customer asks for a quick fix and the team should check the logs restore access "
            + "confirm the order and refund the billing issue today then close the ticket with a short "
            + "note to the customer").split(" ");

    private UsageCalculator() {
    }

    /** Usage of a chat completion or a Responses call. */
    static StubUsage forGeneration(int n, long promptChars, String model, OptionalLong maxOutputTokens) {
        long input = inputTokens(n, promptChars);
        long output = outputTokens(n, maxOutputTokens);
        long cached = n % 3 == 0 ? input / 2 : 0;
        long reasoning = isReasoningModel(model) ? output / 4 : 0;
        return new StubUsage(input, output, cached, reasoning);
    }

    /** Usage of an embeddings call. */
    static StubUsage forEmbeddings(int n, long promptChars) {
        return new StubUsage(inputTokens(n, promptChars), 0, 0, 0);
    }

    /** Output tokens of request {@code n}: 20 + (n * 37 % 50), capped by the max output tokens (at least 1). */
    static long outputTokens(int n, OptionalLong maxOutputTokens) {
        long output = 20 + (n * 37L % 50);
        if (maxOutputTokens.isPresent()) {
            output = Math.max(1, Math.min(output, maxOutputTokens.getAsLong()));
        }
        return output;
    }

    /** Whether the uncapped output of request {@code n} would exceed the cap. */
    static boolean capped(int n, OptionalLong maxOutputTokens) {
        return maxOutputTokens.isPresent() && 20 + (n * 37L % 50) > maxOutputTokens.getAsLong();
    }

    static boolean isReasoningModel(String model) {
        String m = model.toLowerCase(Locale.ROOT);
        return m.startsWith("o") || m.startsWith("gpt-5");
    }

    /** Input tokens of request {@code n}: prompt characters / 4 + 1 + (n * 7 % 11), at least 1. */
    static long inputTokens(int n, long promptChars) {
        return Math.max(1, promptChars / 4 + 1 + (n * 7L % 11));
    }

    /**
     * An answer of about {@code visibleTokens} tokens: that many words minus one, then a full stop
     * (a common English word and the stop being about one token each in OpenAI's encodings). The
     * words start with up to ten words of {@code seed} (the user's last message), so that answers
     * differ per prompt, and go on with a fixed support-desk phrase.
     */
    static String answerText(String seed, long visibleTokens) {
        long words = Math.max(1, visibleTokens - 1);
        List<String> seedWords = new ArrayList<>();
        for (String word : seed.strip().split("\\s+")) {
            if (!word.isEmpty() && seedWords.size() < 10) {
                seedWords.add(word);
            }
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < words; i++) {
            String word = i < seedWords.size() ? seedWords.get(i) : WORDS[(i - seedWords.size()) % WORDS.length];
            if (i > 0) {
                text.append(' ');
            }
            text.append(word);
        }
        return text.append('.').toString();
    }

    /**
     * The text of the last user message: {@code input} itself when it is a string, else the content
     * of the last array element whose role is {@code user} (or that has no role).
     */
    static String lastUserText(JsonNode input) {
        if (input == null || input.isNull() || input.isMissingNode()) {
            return "";
        }
        if (input.isTextual()) {
            return input.asText();
        }
        if (input.isArray()) {
            for (int i = input.size() - 1; i >= 0; i--) {
                JsonNode item = input.get(i);
                String role = item.path("role").asText("user");
                if (role.equals("user")) {
                    return text(item.get("content"));
                }
            }
        }
        return "";
    }

    private static String text(JsonNode content) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode part : content) {
            if (part.path("text").isTextual()) {
                text.append(text.length() > 0 ? " " : "").append(part.get("text").asText());
            }
        }
        return text.toString();
    }

    /** Splits a text into about {@code parts} consecutive pieces at word boundaries (spaces kept). */
    static List<String> split(String text, int parts) {
        String[] words = text.split("(?<= )");
        int perPart = Math.max(1, (words.length + parts - 1) / parts);
        List<String> pieces = new ArrayList<>();
        for (int i = 0; i < words.length; i += perPart) {
            StringBuilder piece = new StringBuilder();
            for (int j = i; j < Math.min(words.length, i + perPart); j++) {
                piece.append(words[j]);
            }
            pieces.add(piece.toString());
        }
        return pieces;
    }

    /** Characters of the text a request sends to the model: message contents, instructions, inputs. */
    static long promptChars(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return 0;
        }
        if (node.isTextual()) {
            return node.asText().length();
        }
        if (node.isNumber()) {
            return 4; // a token id in an embeddings input counts as one token
        }
        long chars = 0;
        if (node.isArray()) {
            for (JsonNode element : node) {
                chars += promptChars(element);
            }
        } else if (node.isObject()) {
            // message {role, content}, content part {type, text}, Responses input item {role, content}
            chars += promptChars(node.get("content"));
            chars += promptChars(node.get("text"));
        }
        return chars;
    }
}
