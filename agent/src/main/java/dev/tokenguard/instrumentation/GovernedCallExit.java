package dev.tokenguard.instrumentation;

import dev.tokenguard.bootstrap.TokenGuardBridge;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;

/**
 * The exit advice every hook shares, whatever its enter advice ({@link GovernCall},
 * {@link GovernCallWithHandler}, {@link GovernTargetCall}): the governed call sees what the method
 * returned or threw and decides what the app gets; a refused call ends with the refusal, which
 * escapes {@code suppress} because it becomes the method's own exception.
 */
public final class GovernedCallExit {
    private GovernedCallExit() {
    }

    @Advice.OnMethodExit(suppress = Throwable.class, onThrowable = Throwable.class)
    public static void exit(@Advice.Enter Object call,
                            @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object returned,
                            @Advice.Thrown(readOnly = false) Throwable thrown) {
        returned = TokenGuardBridge.exit(call, returned, thrown);
        thrown = TokenGuardBridge.thrown(call, thrown);
    }
}
