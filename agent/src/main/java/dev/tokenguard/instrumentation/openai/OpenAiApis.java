package dev.tokenguard.instrumentation.openai;

import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;
import dev.tokenguard.instrumentation.SdkObjects;
import dev.tokenguard.instrumentation.stainless.StainlessApi;
import dev.tokenguard.instrumentation.stainless.StreamAccumulator;

import java.util.List;

/** The three openai-java APIs TokenGuard governs: chat completions, Responses and embeddings. */
final class OpenAiApis {
    private OpenAiApis() {
    }

    /** Chat completions: usage on request in streams ({@code include_usage}), a system or developer note. */
    static final StainlessApi CHAT = new StainlessApi() {
        @Override
        public String operation() {
            return "chat";
        }

        @Override
        public List<String> promptFields() {
            return List.of("messages");
        }

        @Override
        public Object askForStreamUsage(Object params) throws ReflectiveOperationException {
            return OpenAiRequests.includesUsage(params) ? null : OpenAiRequests.withIncludeUsage(params);
        }

        @Override
        public Object withNotice(Object params, String notice) throws ReflectiveOperationException {
            return OpenAiRequests.withChatNotice(params, notice);
        }

        @Override
        public Usage usage(Object response) {
            return OpenAiUsage.ofChatCompletion(response);
        }

        @Override
        public String completionText(Object response) {
            return OpenAiUsage.completionText(response);
        }

        @Override
        public StreamAccumulator newStream(boolean hideUsageElement) {
            return new ChatStream(hideUsageElement);
        }
    };

    /** The Responses API: usage in the final event, the note appended to the instructions. */
    static final StainlessApi RESPONSES = new StainlessApi() {
        @Override
        public String operation() {
            return "chat";
        }

        @Override
        public List<String> promptFields() {
            return List.of("instructions", "input");
        }

        @Override
        public Object withNotice(Object params, String notice) throws ReflectiveOperationException {
            return OpenAiRequests.withInstructionsNotice(params, notice);
        }

        @Override
        public Usage usage(Object response) {
            return OpenAiUsage.ofResponse(response);
        }

        @Override
        public String completionText(Object response) {
            return OpenAiUsage.responseText(response);
        }

        @Override
        public StreamAccumulator newStream(boolean hideUsageElement) {
            return new ResponsesStream();
        }
    };

    /** Embeddings: input tokens only, no note, no stream. */
    static final StainlessApi EMBEDDINGS = new StainlessApi() {
        @Override
        public String operation() {
            return "embeddings";
        }

        @Override
        public List<String> promptFields() {
            return List.of("input");
        }

        @Override
        public boolean producesOutput() {
            return false;
        }

        @Override
        public Object withNotice(Object params, String notice) {
            return params;
        }

        @Override
        public Usage usage(Object response) {
            return OpenAiUsage.ofEmbeddings(response);
        }

        @Override
        public String completionText(Object response) {
            return null;
        }

        @Override
        public StreamAccumulator newStream(boolean hideUsageElement) {
            throw new UnsupportedOperationException("embeddings do not stream");
        }
    };

    /**
     * A chat stream: usage in the last chunk. When the agent asked for it, the one usage-only chunk that asking adds
     * is hidden from the app; any further usage-only chunk is the server's own (a gateway that appends its usage
     * whether asked or not) and reaches the app as it would without the agent.
     */
    static final class ChatStream extends StreamAccumulator {
        private final boolean hideUsageChunk;
        private boolean hidden;
        private volatile boolean usageChunkSeen;

        ChatStream(boolean hideUsageChunk) {
            this.hideUsageChunk = hideUsageChunk;
        }

        @Override
        public boolean usageSeen() {
            return usageChunkSeen;
        }

        @Override
        public boolean onElement(Object chunk) {
            if (model == null) {
                model = SdkObjects.text(chunk, "model");
                id = SdkObjects.text(chunk, "id");
            }
            finishReasons.addAll(OpenAiUsage.chatFinishReasons(chunk));
            if (OpenAiUsage.hasUsage(chunk)) {
                usageChunkSeen = true;
                Usage u = OpenAiUsage.ofChatCompletion(chunk);
                finalUsage = new Usage(u.inputTokens(), u.outputTokens(), u.cacheReadTokens(), u.cacheWriteTokens(),
                        u.reasoningTokens(), u.responseModel(), u.responseId(), List.copyOf(finishReasons),
                        UsageSource.PROVIDER);
                String text = OpenAiUsage.chunkText(chunk);
                appendText(text);
                boolean usageOnly = text == null
                        && SdkObjects.get(chunk, "choices") instanceof List<?> l && l.isEmpty();
                if (hideUsageChunk && usageOnly && !hidden) {
                    hidden = true;
                    return false;
                }
                return true;
            }
            String text = OpenAiUsage.chunkText(chunk);
            appendText(text);
            if (text == null && !finishReasons.isEmpty() && SdkObjects.get(chunk, "choices") instanceof List<?> none
                    && none.isEmpty()) {
                usageChunkSeen = true; // a usage chunk whose usage is left out or null
            }
            // the chunk the ask added, with its usage left out or null: no choices, after the last finish reason (an
            // Azure OpenAI stream's first chunk has no choices too, but comes before any)
            if (hideUsageChunk && !hidden && text == null && !finishReasons.isEmpty()
                    && SdkObjects.get(chunk, "choices") instanceof List<?> l && l.isEmpty()) {
                hidden = true;
                return false;
            }
            return true;
        }
    }

    /** A Responses stream: usage in the final {@code response.completed} (or incomplete / failed) event. */
    static final class ResponsesStream extends StreamAccumulator {
        @Override
        public boolean onElement(Object event) {
            Object finalResponse = OpenAiUsage.finalResponseOf(event);
            if (finalResponse != null) {
                finalUsage = OpenAiUsage.ofResponse(finalResponse);
                model = finalUsage.responseModel();
                id = finalUsage.responseId();
                finishReasons.addAll(finalUsage.finishReasons());
            } else {
                appendText(OpenAiUsage.eventText(event));
            }
            return true;
        }
    }
}
