package dev.tokenguard.instrumentation;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.bootstrap.TokenGuardBridge;
import net.bytebuddy.asm.Advice;

/**
 * The enter advice of {@link Hook.Shape#ARGUMENTS} hooks: the call site gets every argument, for
 * methods whose request is not the first one (e.g. {@code doExecute(host, request, context)}).
 */
public final class GovernArguments {
    private GovernArguments() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = BudgetExhaustedException.class)
    public static Object enter(@Advice.Origin("#t.#m") String site, @Advice.This Object target,
                               @Advice.AllArguments Object[] arguments) {
        return TokenGuardBridge.enter(site, target, arguments);
    }
}
