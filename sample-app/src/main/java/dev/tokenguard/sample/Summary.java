package dev.tokenguard.sample;

/**
 * One ticket's summary and the usage the response reported.
 *
 * @param method       how it was obtained, in the words of the provider's SDK: e.g. {@code chat},
 *                     {@code chat-stream}, {@code responses}, {@code converse}, {@code generate}
 * @param inputTokens  input tokens the response reported, or {@code null} when it reported none
 * @param outputTokens output tokens the response reported, or {@code null} when it reported none
 * @param text         the model's answer
 */
record Summary(String method, Long inputTokens, Long outputTokens, String text) {

    boolean usageReported() {
        return inputTokens != null && outputTokens != null;
    }
}
