package dev.tokenguard.agent;

import dev.tokenguard.bootstrap.CallHooks;
import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.GovernedThread;
import dev.tokenguard.core.InjectedFault;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.GovernedCall;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Routes what the advice reports to the call site it came from. Every internal failure is caught
 * here and reported once: the call then proceeds as if the agent were not there.
 *
 * <p>At JVM start-up the classes may be instrumented before the call sites can be made (the governor
 * they feed is built on the start-up thread, beside the application's own start): a call entering
 * before then waits for it, so it is governed (and refused, if it must be) like any later one. A call
 * of the start-up thread itself never waits. Each call site is made by the first call that reaches it
 * ({@link CallSites}).
 */
final class CallDispatch implements CallHooks {
    static final long READY_WAIT_SECONDS = 30;
    /**
     * Lets a test hold the start-up thread until a call is waiting for the call sites
     * ({@code -Dtokenguard.internal.start-hold=call}), to prove such a call is governed.
     */
    static final String START_HOLD_PROPERTY = "tokenguard.internal.start-hold";

    private volatile CallSites sites = CallSites.NONE;
    private final CountDownLatch ready = new CountDownLatch(1);
    private volatile boolean isReady;
    private volatile Thread starter;
    private final CountDownLatch callWaiting = new CountDownLatch(1);

    /** Routes calls to {@code newSites} from now on; a call waiting for them goes on. */
    void use(CallSites newSites) {
        sites = newSites;
        release();
    }

    /** From now on until {@link #use} or {@link #release}, entering calls wait, except those of {@code thread}. */
    void holdCallsExceptOf(Thread thread) {
        starter = thread;
    }

    /** Lets the waiting calls go on, with the sites there are (none, if start-up failed: they pass through). */
    void release() {
        isReady = true;
        ready.countDown();
    }

    private void awaitSites() {
        if (isReady || starter == null || Thread.currentThread() == starter) {
            return;
        }
        callWaiting.countDown();
        try {
            if (!ready.await(READY_WAIT_SECONDS, TimeUnit.SECONDS)) {
                AgentLog.failure("dispatch.late", "TokenGuard: the call sites were not ready in "
                        + READY_WAIT_SECONDS + " s; a call went on ungoverned");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** With {@link #START_HOLD_PROPERTY} set, waits (on the start-up thread) until a call waits for the sites. */
    void holdStartUpIfAsked() {
        if (!"call".equals(System.getProperty(START_HOLD_PROPERTY))) {
            return;
        }
        try {
            if (!callWaiting.await(READY_WAIT_SECONDS, TimeUnit.SECONDS)) {
                AgentLog.failure("start.hold", "TokenGuard: no call waited for the start-up in "
                        + READY_WAIT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public Object enter(String site, Object target, Object request) {
        try {
            awaitSites();
            CallSite callSite = sites.get(site);
            InjectedFault.at("enter");
            Object call = callSite == null ? null : callSite.enter(target, request);
            if (call instanceof GovernedCall governed && governed.ownsRequests()) {
                GovernedThread.enter();
            }
            return call;
        } catch (RuntimeException | LinkageError e) {
            AgentLog.failure("enter " + site, e);
            return null;
        }
    }

    @Override
    public Object request(Object call, Object request) {
        try {
            return call instanceof GovernedCall governed ? governed.request(request) : request;
        } catch (RuntimeException | LinkageError e) {
            AgentLog.failure("request", e);
            return request;
        }
    }

    @Override
    public Object argument(Object call, int index, Object value) {
        try {
            return call instanceof GovernedCall governed ? governed.argument(index, value) : value;
        } catch (RuntimeException | LinkageError e) {
            AgentLog.failure("argument", e);
            return value;
        }
    }

    private static boolean ownsRequests(GovernedCall call) {
        try {
            return call.ownsRequests();
        } catch (RuntimeException | LinkageError e) {
            AgentLog.failure("exit", e);
            return true;
        }
    }

    @Override
    public Object exit(Object call, Object returned, Throwable thrown) {
        if (call instanceof GovernedCall governed && ownsRequests(governed)) {
            GovernedThread.exit();
        }
        try {
            return call instanceof GovernedCall governed ? governed.exit(returned, thrown) : returned;
        } catch (RuntimeException | LinkageError e) {
            AgentLog.failure("exit", e);
            return returned;
        }
    }

    @Override
    public Throwable thrown(Object call, Throwable thrown) {
        try {
            return call instanceof GovernedCall governed ? governed.thrown(thrown) : thrown;
        } catch (RuntimeException | LinkageError e) {
            AgentLog.failure("thrown", e);
            return thrown;
        }
    }
}
