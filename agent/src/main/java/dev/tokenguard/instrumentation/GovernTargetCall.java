package dev.tokenguard.instrumentation;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.bootstrap.TokenGuardBridge;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * The advice of {@link Hook.Shape#TARGET} hooks, on methods without arguments (e.g. an HTTP
 * client's {@code Call.execute()}): the call site reads the request from the target itself.
 */
public final class GovernTargetCall {
    private GovernTargetCall() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = BudgetExhaustedException.class)
    public static Object enter(@Advice.Origin("#t.#m") String site, @Advice.This Object target) {
        return TokenGuardBridge.enter(site, target, null);
    }

    @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
    public static void exit(@Advice.Enter Object call,
                            @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object returned,
                            @Advice.Thrown(readOnly = false) Throwable thrown) {
        returned = TokenGuardBridge.exit(call, returned, thrown);
        thrown = TokenGuardBridge.thrown(call, thrown);
    }
}
