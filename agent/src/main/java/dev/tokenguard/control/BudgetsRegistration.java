package dev.tokenguard.control;

import dev.tokenguard.core.AgentLog;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;

/**
 * Registers {@link Budgets} as {@code dev.tokenguard:type=Budgets} in the platform MBeanServer on a daemon thread,
 * so the application's start-up never waits for the JMX machinery (the platform server builds every JDK MBean the
 * first time it is asked for).
 */
public final class BudgetsRegistration {
    /** The MBean's name, as jconsole and the {@code status} and {@code set} commands find it. */
    public static final String OBJECT_NAME = "dev.tokenguard:type=Budgets";

    private BudgetsRegistration() {
    }

    public static void startInBackground(Budgets budgets) {
        Thread t = new Thread(() -> register(budgets), "tokenguard-jmx");
        t.setDaemon(true);
        t.start();
    }

    /** Registers, replacing nothing: a name already taken (a second agent copy) is left alone. */
    static boolean register(Budgets budgets) {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName name = new ObjectName(OBJECT_NAME);
            if (server.isRegistered(name)) {
                return false;
            }
            server.registerMBean(budgets, name);
            return true;
        } catch (JMException | RuntimeException | Error e) {
            AgentLog.failure("jmx.register", e);
            return false;
        }
    }
}
