package dev.tokenguard.control;

import dev.tokenguard.core.AgentLog;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;

/**
 * Registers {@link Budgets} as {@code dev.tokenguard:type=Budgets} in the platform MBeanServer once that server
 * exists, and never creates it: building the platform server registers the JDK's logging MXBean, which initialises
 * {@code java.util.logging}'s LogManager, and an application that installs its own LogManager later (JBoss LogManager,
 * as WildFly and Quarkus do) must find it uninitialised. The server comes into being when the application uses JMX,
 * when the JVM starts with {@code -Dcom.sun.management.jmxremote}, or when a local JMX client (jconsole, VisualVM, the
 * {@code status} and {@code set} commands through the attach API) starts the JVM's management agent; the agent's
 * once-a-second background thread then registers the MBean.
 */
public final class BudgetsRegistration {
    /** The MBean's name, as jconsole and the {@code status} and {@code set} commands find it. */
    public static final String OBJECT_NAME = "dev.tokenguard:type=Budgets";

    private final Budgets budgets;
    private volatile boolean done;

    public BudgetsRegistration(Budgets budgets) {
        this.budgets = budgets;
    }

    /**
     * Registers the MBean when the platform MBeanServer exists and it is not registered yet; cheap otherwise. Call it
     * periodically from a background thread.
     */
    public void poll() {
        if (done) {
            return;
        }
        try {
            if (!MBeanServerFactory.findMBeanServer(null).isEmpty()) {
                done = true;
                register(budgets);
            }
        } catch (RuntimeException | Error e) {
            done = true;
            AgentLog.failure("jmx.register", e);
        }
    }

    /**
     * The name of one budget's MBean, {@code dev.tokenguard:type=Budgets,name=<budget>}, the budget's name quoted when
     * it holds a character an object name reserves.
     */
    public static ObjectName budgetName(String budget) throws MalformedObjectNameException {
        boolean plain = budget.chars().noneMatch(c -> ",=:\"*?\\\n".indexOf(c) >= 0);
        return new ObjectName(OBJECT_NAME + ",name=" + (plain ? budget : ObjectName.quote(budget)));
    }

    /**
     * Registers, replacing nothing: a name already taken (a second agent copy) is left alone. Besides
     * {@code dev.tokenguard:type=Budgets}, each budget gets one of its own ({@link #budgetName}).
     */
    static boolean register(Budgets budgets) {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            ObjectName name = new ObjectName(OBJECT_NAME);
            if (server.isRegistered(name)) {
                return false;
            }
            server.registerMBean(budgets, name);
            for (String budget : budgets.getBudgetNames()) {
                ObjectName one = budgetName(budget);
                if (!server.isRegistered(one)) {
                    server.registerMBean(new BudgetControl(budgets, budget), one);
                }
            }
            return true;
        } catch (JMException | RuntimeException | Error e) {
            AgentLog.failure("jmx.register", e);
            return false;
        }
    }
}
