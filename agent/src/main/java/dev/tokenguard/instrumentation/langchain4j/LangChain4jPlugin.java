package dev.tokenguard.instrumentation.langchain4j;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.CallSiteFactory;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Layer;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.instrumentation.VersionRange;

import java.util.List;

/**
 * LangChain4j 1.x, at the framework layer. Its model classes for OpenAI, Anthropic, Gemini, Ollama and
 * others send their requests through LangChain4j's own HTTP client, by default the JDK's
 * {@code HttpClient} (older modules: OkHttp), so each physical request is charged, and refused, by the
 * raw-HTTP layer below; {@code langchain4j-open-ai-official} runs on openai-java, whose plugin owns
 * its requests.
 *
 * <p>What this plugin adds is what only the framework knows: its retry loop
 * ({@code RetryUtils.RetryPolicy.withRetry(Callable, int)}, through which every retrying model call
 * and every static {@code RetryUtils.withRetry*} method passes once) retries every exception but its own
 * {@code NonRetriableException}, so a refusal would be refused again on each retry, sleeping in
 * between. {@link RetryLoopCallSite} makes the loop give up at once on a refusal, which then leaves the
 * method the application called as the {@code BudgetExhaustedException} itself. The loop owns no
 * request: the layer below still governs each attempt, and a retry after a failure is a new request.
 */
public final class LangChain4jPlugin {
    static final String RETRY_POLICY = "dev.langchain4j.internal.RetryUtils$RetryPolicy";

    /**
     * Makes the call site on its first call (not {@code RetryLoopCallSite::new}, which would load that class with the
     * declaration), one for all the hooks.
     */
    private static final CallSiteFactory RETRY_LOOP_CALL_SITE = new CallSites();

    /** The declaration. */
    public static final SdkPlugin DECLARATION = new SdkPlugin("langchain4j", "openai",
            "dev.langchain4j.internal.RetryUtils", new VersionRange("1.0.0", "2"), List.of(
                    new Hook(RETRY_POLICY, List.of("withRetry"), 2, Layer.FRAMEWORK, RETRY_LOOP_CALL_SITE)),
            List.of());

    private LangChain4jPlugin() {
    }

    private static final class CallSites implements CallSiteFactory {
        @Override
        public CallSite create(String method, Governor governor) {
            return new RetryLoopCallSite(method, governor);
        }
    }
}
