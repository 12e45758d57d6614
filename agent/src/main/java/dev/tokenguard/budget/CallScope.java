package dev.tokenguard.budget;

/**
 * The scope instances of one LLM call, resolved on the calling thread by {@link BudgetEngine#enter()}:
 * one per configured budget, plus the call's session. It may be handed to another thread, e.g. to
 * charge an asynchronous call when it completes.
 */
public final class CallScope {
    /**
     * One instance per budget. Never written once made: the array may be shared by a thread's calls and with the
     * call's {@link Reservation}; when an instance gets a successor, a copy with it replaces the array.
     */
    ScopeInstance[] instances;
    private volatile Session session;
    /** What the last charge of this scope did; made at the first charge, filled again at each. */
    ChargeResult charged;

    CallScope(ScopeInstance[] instances, Session session) {
        this.instances = instances;
        this.session = session;
    }

    /**
     * The call's session: the one current at {@link BudgetEngine#enter()}, or, after
     * {@link BudgetEngine#charge}, the one the call was charged to (a later one when the default
     * budget's window passed a boundary in between).
     */
    public Session session() {
        return session;
    }

    void session(Session s) {
        session = s;
    }

    /** The default budget's scope instance key, e.g. {@code thread:worker-3#41}. */
    public String scopeKey() {
        return instances[0].key;
    }

    /** The scope instance key of the budget named {@code budgetName}, or null when no such budget. */
    public String scopeKey(String budgetName) {
        for (ScopeInstance s : instances) {
            if (s.limits.name.equals(budgetName)) {
                return s.key;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "CallScope[" + scopeKey() + ", " + session + "]";
    }
}
