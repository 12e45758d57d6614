package dev.tokenguard.agent;

import dev.tokenguard.bootstrap.CallHooks;
import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.GovernedThread;
import dev.tokenguard.core.InjectedFault;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.GovernedCall;

import java.util.Map;

/**
 * Routes what the advice reports to the call site it came from. Every internal failure is caught
 * here and reported once: the call then proceeds as if the agent were not there.
 */
final class CallDispatch implements CallHooks {
    private volatile Map<String, CallSite> sites = Map.of();

    /** Routes calls to {@code newSites} from now on. */
    void use(Map<String, CallSite> newSites) {
        sites = Map.copyOf(newSites);
    }

    @Override
    public Object enter(String site, Object target, Object request) {
        try {
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
