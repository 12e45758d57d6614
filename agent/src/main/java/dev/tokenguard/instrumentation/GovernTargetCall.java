package dev.tokenguard.instrumentation;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.bootstrap.TokenGuardBridge;
import net.bytebuddy.asm.Advice;

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
}
