package dev.tokenguard.instrumentation.ollama;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.GovernedCall;

/**
 * {@code Ollama.chat} and {@code Ollama.generate}, which catch every exception of the requests they make and throw
 * it again wrapped in the SDK's {@code OllamaException}: a refusal from a request inside (the first, or a later
 * round of a tool-calling loop) leaves them as the {@code BudgetExhaustedException} itself. They charge and refuse
 * nothing themselves and own no request: the requests inside are governed one by one.
 */
final class RefusalUnwrapping implements CallSite {
    private static final GovernedCall CALL = new GovernedCall() {
        @Override
        public Object request(Object request) {
            return request;
        }

        @Override
        public boolean ownsRequests() {
            return false;
        }

        @Override
        public Object exit(Object returned, Throwable thrown) {
            return returned;
        }

        @Override
        public Throwable thrown(Throwable thrown) {
            BudgetExhaustedException refusal = refusalIn(thrown);
            return refusal == null ? thrown : refusal;
        }
    };

    RefusalUnwrapping(String method, Governor governor) {
        // nothing to charge or refuse here
    }

    @Override
    public Object enter(Object client, Object request) {
        return CALL;
    }

    /** The refusal {@code thrown} is or wraps, or null. */
    static BudgetExhaustedException refusalIn(Throwable thrown) {
        Throwable t = thrown;
        for (int depth = 0; t != null && depth < 16; depth++) {
            if (t instanceof BudgetExhaustedException refusal) {
                return refusal;
            }
            t = t.getCause();
        }
        return null;
    }
}
