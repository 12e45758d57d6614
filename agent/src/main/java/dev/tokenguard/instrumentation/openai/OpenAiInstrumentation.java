package dev.tokenguard.instrumentation.openai;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.bootstrap.TokenGuardBridge;
import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.SdkInstrumentation;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static net.bytebuddy.matcher.ElementMatchers.isPublic;
import static net.bytebuddy.matcher.ElementMatchers.namedOneOf;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

/**
 * openai-java 4.x: chat completions, Responses and embeddings, blocking and async, plain and
 * streaming, at the {@code *ServiceImpl$WithRawResponseImpl} layer.
 */
public final class OpenAiInstrumentation implements SdkInstrumentation {

    @Override
    public String sdkName() {
        return "openai-java";
    }

    @Override
    public String markerClass() {
        return "com.openai.client.OpenAIClient";
    }

    @Override
    public List<String> requiredClasses() {
        return List.of(OpenAiCall.HTTP_RESPONSE_FOR, OpenAiCall.STREAM_RESPONSE,
                "com.openai.models.chat.completions.ChatCompletionStreamOptions", "com.openai.core.ObjectMappers",
                OpenAiSite.CHAT.typeName(), OpenAiSite.CHAT_ASYNC.typeName());
    }

    @Override
    public List<String> typeNames() {
        return Arrays.stream(OpenAiSite.values()).map(OpenAiSite::typeName).distinct().toList();
    }

    @Override
    public AgentBuilder.Transformer transformer() {
        return (builder, type, loader, module, domain) -> builder.visit(Advice.to(GovernRawCall.class)
                .on(namedOneOf("create", "createStreaming").and(takesArguments(2)).and(isPublic())));
    }

    @Override
    public Map<String, CallSite> sites(Governor governor) {
        Map<String, CallSite> sites = new LinkedHashMap<>();
        for (OpenAiSite site : OpenAiSite.values()) {
            sites.put(site.siteName(), new OpenAiCallSite(site, governor));
        }
        return sites;
    }

    /** Refuses an exhausted call before the request is built, and governs the raw response it returns. */
    public static final class GovernRawCall {
        private GovernRawCall() {
        }

        @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = BudgetExhaustedException.class)
        public static Object enter(@Advice.Origin("#t.#m") String site, @Advice.This Object service,
                                   @Advice.Argument(value = 0, readOnly = false, typing = Assigner.Typing.DYNAMIC)
                                   Object params) {
            Object call = TokenGuardBridge.enter(site, service, params);
            params = TokenGuardBridge.request(call, params);
            return call;
        }

        @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
        public static void exit(@Advice.Enter Object call,
                                @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object returned,
                                @Advice.Thrown(readOnly = false) Throwable thrown) {
            returned = TokenGuardBridge.exit(call, returned, thrown);
            thrown = TokenGuardBridge.thrown(call, thrown);
        }
    }
}
