package dev.tokenguard.instrumentation;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.bootstrap.TokenGuardBridge;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * The advice of {@link Hook.Shape#REQUEST_AND_HANDLER} hooks: as {@link GovernCall}, and the second
 * argument (a response handler or callback) may be replaced too, so the governed call can watch the
 * response on its way to the app.
 */
public final class GovernCallWithHandler {
    private GovernCallWithHandler() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = BudgetExhaustedException.class)
    public static Object enter(@Advice.Origin("#t.#m") String site, @Advice.This Object target,
                               @Advice.Argument(value = 0, readOnly = false, typing = Assigner.Typing.DYNAMIC)
                               Object request,
                               @Advice.Argument(value = 1, readOnly = false, typing = Assigner.Typing.DYNAMIC)
                               Object handler) {
        Object call = TokenGuardBridge.enter(site, target, request);
        request = TokenGuardBridge.request(call, request);
        handler = TokenGuardBridge.argument(call, 1, handler);
        return call;
    }
}
