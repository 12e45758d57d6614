package dev.tokenguard.agent;

import java.lang.instrument.Instrumentation;

/**
 * The agent's entry points: {@code premain} for {@code -javaagent}, {@code agentmain} for attaching
 * to a running JVM. Neither ever throws into the JVM: whatever goes wrong, one line on stderr and
 * the application starts uninstrumented.
 *
 * <p>{@code premain} only puts the bridge into the bootstrap loader, registers a transformer that
 * knows the classes to instrument by name, and returns: the configuration, the instrumentation and
 * the running parts are set up on the daemon thread {@code tokenguard-start}, while the application
 * starts. {@code agentmain} does all of it before it returns.
 */
public final class TokenGuardAgent {
    /** Set once the agent is installed in this JVM; a second installation does nothing. */
    static final String INSTALLED_PROPERTY = "dev.tokenguard.installed";

    private TokenGuardAgent() {
    }

    public static void premain(String arguments, Instrumentation instrumentation) {
        start(arguments, instrumentation, true);
    }

    /** Attached to a running JVM: the SDK's classes may be in use, so they are instrumented before this returns. */
    public static void agentmain(String arguments, Instrumentation instrumentation) {
        start(arguments, instrumentation, false);
    }

    /** Whether an installation has begun in this JVM (its start-up thread may still be running). */
    private static boolean starting;

    private static synchronized void start(String arguments, Instrumentation instrumentation, boolean atStartup) {
        try {
            if (starting || System.getProperty(INSTALLED_PROPERTY) != null) {
                return;
            }
            StartSwitch decided = atStartup
                    ? StartSwitch.of(arguments, System.getProperties(), System.getenv())
                    : StartSwitch.READ_FIRST;
            if (decided == StartSwitch.DISABLED) {
                return; // tokenguard.enabled=false: nothing installed, nothing injected
            }
            if (decided == StartSwitch.READ_FIRST) {
                // attached, or a config file may switch the agent off: decide on the whole configuration first
                AgentStartUp.configureAndInstall(arguments, instrumentation, null);
                return;
            }
            // the public exception and the bridge must be bootstrap classes before anything refers to them
            BootstrapInjector.inject(instrumentation);
            DeferredTransformer deferred = AgentInstaller.deferAtStartup(instrumentation);
            PublicApi.connectPending();
            starting = true;
            Thread starter = new Thread(new AgentStartUp(arguments, instrumentation, deferred), "tokenguard-start");
            starter.setDaemon(true);
            starter.start();
        } catch (Throwable t) {
            System.err.println("TokenGuard: could not start (" + t + "); the application runs uninstrumented");
        }
    }

    static synchronized void startFailed() {
        starting = false;
    }
}
