package dev.tokenguard.instrumentation;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.bootstrap.TokenGuardBridge;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * The advice of {@link Hook.Shape#ARGUMENTS} hooks, on methods whose request is spread over several
 * arguments (e.g. a deployment name and a JSON body): the call site gets every argument as one array,
 * and the governed call may give back an array with some of them replaced.
 */
public final class GovernCallWithArguments {
    private GovernCallWithArguments() {
    }

    @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = BudgetExhaustedException.class)
    public static Object enter(@Advice.Origin("#t.#m") String site, @Advice.This Object target,
                               @Advice.AllArguments(readOnly = false, typing = Assigner.Typing.DYNAMIC)
                               Object[] arguments) {
        Object call = TokenGuardBridge.enter(site, target, arguments);
        arguments = (Object[]) TokenGuardBridge.request(call, arguments);
        return call;
    }
}
