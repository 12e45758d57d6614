package dev.tokenguard.bootstrap;

import dev.tokenguard.api.BudgetExhaustedException;

/**
 * A refusal carried out of a framework's retry loop. Such loops retry every {@code Exception} but
 * their own "do not retry" type, so a refusal thrown as itself would be refused again on each retry;
 * carried as an {@code Error} it leaves the loop at once, and the exit advice of the method that
 * runs the loop throws the {@link BudgetExhaustedException} it carries in its place
 * ({@link TokenGuardBridge#thrown}), so the application never sees this type.
 */
public final class RefusalInFlight extends Error {
    private static final long serialVersionUID = 1L;

    private final BudgetExhaustedException refusal;

    public RefusalInFlight(BudgetExhaustedException refusal) {
        super(refusal.getMessage(), refusal, false, false);
        this.refusal = refusal;
    }

    /** The refusal to throw in place of this. */
    public BudgetExhaustedException refusal() {
        return refusal;
    }
}
