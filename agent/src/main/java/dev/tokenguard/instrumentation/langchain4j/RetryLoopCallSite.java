package dev.tokenguard.instrumentation.langchain4j;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.GovernedCall;

import java.util.concurrent.Callable;

/**
 * LangChain4j's retry loop, {@code RetryPolicy.withRetry(action, maxRetries)}: the action it retries
 * is replaced by one that ends the loop at once on a refusal ({@link GiveUpOnRefusal}). Nothing is
 * charged or refused here, and the thread is not marked as inside a governed call, so the layer
 * below governs every attempt.
 */
final class RetryLoopCallSite implements CallSite {

    RetryLoopCallSite(String method, Governor governor) {
        // the loop needs neither: it charges and refuses nothing itself
    }

    @Override
    public Object enter(Object target, Object request) {
        return request instanceof Callable<?> ? RetryLoop.INSTANCE : null;
    }

    /** One run of the loop. Stateless, so one instance serves every run. */
    static final class RetryLoop implements GovernedCall {
        static final RetryLoop INSTANCE = new RetryLoop();

        @Override
        public Object request(Object request) {
            return request instanceof Callable<?> action ? new GiveUpOnRefusal<>(action) : request;
        }

        @Override
        public boolean ownsRequests() {
            return false;
        }

        @Override
        public Object exit(Object returned, Throwable thrown) {
            return returned;
        }
    }
}
