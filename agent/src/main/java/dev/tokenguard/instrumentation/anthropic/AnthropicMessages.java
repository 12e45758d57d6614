package dev.tokenguard.instrumentation.anthropic;

import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;
import dev.tokenguard.instrumentation.SdkObjects;
import dev.tokenguard.instrumentation.stainless.StainlessApi;
import dev.tokenguard.instrumentation.stainless.StreamAccumulator;

import java.util.ArrayList;
import java.util.List;

/**
 * The Messages API of anthropic-java ({@code messages()} and {@code beta().messages()}, whose types
 * differ in name only): the budget note goes into {@code system}, and a stream's usage is the
 * {@code message_start} usage with the last {@code message_delta} usage over it.
 */
final class AnthropicMessages implements StainlessApi {
    static final AnthropicMessages INSTANCE = new AnthropicMessages();

    private AnthropicMessages() {
    }

    @Override
    public String operation() {
        return "chat";
    }

    @Override
    public List<String> promptFields() {
        return List.of("system", "messages");
    }

    /**
     * The same request with {@code notice} in its system prompt: appended to a string system prompt,
     * one more text block after a block system prompt, the whole system prompt where there was none.
     */
    @Override
    public Object withNotice(Object params, String notice) throws ReflectiveOperationException {
        Object builder = params.getClass().getMethod("toBuilder").invoke(params);
        Object system = SdkObjects.get(params, "system");
        List<?> blocks = system == null ? null : blocksOf(system);
        if (blocks != null && !blocks.isEmpty()) {
            Object first = blocks.get(0);
            Object blockBuilder = first.getClass().getMethod("builder").invoke(null);
            blockBuilder.getClass().getMethod("text", String.class).invoke(blockBuilder, notice);
            Object block = blockBuilder.getClass().getMethod("build").invoke(blockBuilder);
            List<Object> more = new ArrayList<>(blocks);
            more.add(block);
            String setter = first.getClass().getSimpleName().startsWith("Beta")
                    ? "systemOfBetaTextBlockParams" : "systemOfTextBlockParams";
            builder.getClass().getMethod(setter, List.class).invoke(builder, more);
        } else {
            String existing = system == null ? null : SdkObjects.text(system);
            String prompt = existing != null && !existing.isBlank() ? existing + "\n\n" + notice : notice;
            builder.getClass().getMethod("system", String.class).invoke(builder, prompt);
        }
        return builder.getClass().getMethod("build").invoke(builder);
    }

    private static List<?> blocksOf(Object system) {
        for (String accessor : new String[] {"textBlockParams", "betaTextBlockParams"}) {
            if (SdkObjects.get(system, accessor) instanceof List<?> list) {
                return list;
            }
        }
        return null;
    }

    @Override
    public Usage usage(Object response) {
        return AnthropicUsage.ofMessage(response);
    }

    @Override
    public String completionText(Object response) {
        return AnthropicUsage.messageText(response);
    }

    @Override
    public StreamAccumulator newStream(boolean hideUsageElement) {
        return new MessageStream();
    }

    /**
     * A message stream. {@code message_start} carries the input counts; each {@code message_delta}
     * carries cumulative counts, so the last one replaces the earlier ones.
     */
    static final class MessageStream extends StreamAccumulator {
        private AnthropicUsage.Counts start;
        private AnthropicUsage.Counts lastDelta;

        @Override
        public boolean onElement(Object event) {
            Object messageStart = SdkObjects.get(event, "messageStart");
            if (messageStart != null) {
                Object message = SdkObjects.get(messageStart, "message");
                model = SdkObjects.text(message, "model");
                id = SdkObjects.text(message, "id");
                start = AnthropicUsage.Counts.of(SdkObjects.get(message, "usage"));
                return true;
            }
            Object delta = SdkObjects.get(event, "contentBlockDelta");
            if (delta != null) {
                appendText(SdkObjects.text(SdkObjects.get(SdkObjects.get(delta, "delta"), "text"), "text"));
                return true;
            }
            Object messageDelta = SdkObjects.get(event, "messageDelta");
            if (messageDelta != null) {
                lastDelta = AnthropicUsage.Counts.of(SdkObjects.get(messageDelta, "usage"));
                String stop = SdkObjects.text(SdkObjects.get(messageDelta, "delta"), "stopReason");
                if (stop != null) {
                    finishReasons.clear();
                    finishReasons.add(stop);
                }
                finalUsage = lastDelta.over(start).toUsage(model, id, finishReasons, UsageSource.PROVIDER);
            }
            return true;
        }

        @Override
        public Usage partialUsage() {
            return start == null ? null : start.toUsage(model, id, finishReasons, UsageSource.ESTIMATED);
        }
    }
}
