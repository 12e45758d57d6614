package dev.tokenguard.instrumentation;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.bootstrap.TokenGuardBridge;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * The enter advice of {@link Hook.Shape#REQUEST} hooks: refuse an exhausted call before the request
 * is built and let the governed call adjust the request; {@link GovernedCallExit} governs what the
 * method returns. Only JDK types cross into the agent, through the bootstrap {@link TokenGuardBridge};
 * the refusal escapes {@code suppress} because it is thrown as the method's own exception on exit.
 */
public final class GovernCall {
    private GovernCall() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = BudgetExhaustedException.class)
    public static Object enter(@Advice.Origin("#t.#m") String site, @Advice.This Object target,
                               @Advice.Argument(value = 0, readOnly = false, typing = Assigner.Typing.DYNAMIC)
                               Object request) {
        Object call = TokenGuardBridge.enter(site, target, request);
        request = TokenGuardBridge.request(call, request);
        return call;
    }
}
