package dev.tokenguard.agent;

import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;
import com.sun.tools.attach.VirtualMachineDescriptor;
import dev.tokenguard.control.BudgetsRegistration;

import javax.management.JMException;
import javax.management.MBeanException;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.RuntimeMBeanException;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import java.io.IOException;
import java.io.PrintStream;
import java.util.List;

/**
 * {@code list}, {@code status <pid>} and {@code set <pid> k=v ...}: the JDK attach API finds the JVM and starts
 * its local JMX connector (loopback only, the same user), then the commands read and call the agent's
 * {@code dev.tokenguard:type=Budgets} MBean. No library: {@code com.sun.tools.attach} and JMX are the JDK's.
 */
final class ControlCommand {
    /**
     * How long to wait for the agent's MBean: the agent registers it within about a second of the JVM's platform
     * MBeanServer coming into being, which starting the local connector does.
     */
    static final long REGISTRATION_WAIT_MILLIS = 5_000;

    private ControlCommand() {
    }

    /** The local JVMs, as {@code jcmd} lists them: pid and main class (with its arguments). */
    static int list(PrintStream out) {
        List<VirtualMachineDescriptor> vms = VirtualMachine.list();
        String self = String.valueOf(ProcessHandle.current().pid());
        for (VirtualMachineDescriptor d : vms) {
            if (!d.id().equals(self)) {
                out.println(d.id() + " " + d.displayName());
            }
        }
        return 0;
    }

    static int status(String pid, PrintStream out, PrintStream err) {
        return withBudgets(pid, err, (server, name) -> {
            out.print((String) server.invoke(name, "status", new Object[0], new String[0]));
            return 0;
        });
    }

    /**
     * Applies the settings all or nothing: the agent checks every one before it makes any, so one bad setting
     * changes nothing. Prints one line per setting.
     */
    static int set(String pid, List<String> settings, PrintStream out, PrintStream err) {
        if (settings.isEmpty()) {
            err.println("TokenGuard: set needs at least one key=value, e.g. set " + pid + " budget.max-tokens=200k");
            return 2;
        }
        String user = System.getProperty("user.name");
        return withBudgets(pid, err, (server, name) -> {
            try {
                out.println(server.invoke(name, "setAllBy", new Object[] {settings.toArray(String[]::new), user},
                        new String[] {String[].class.getName(), String.class.getName()}));
                return 0;
            } catch (RuntimeMBeanException | MBeanException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                err.println(cause.getMessage());
                return 2;
            }
        });
    }

    /**
     * Prints what an agent just loaded governs, once its MBean is there; prints nothing and returns non-zero when it
     * never comes.
     */
    static int printStatusAfterAttach(String pid, PrintStream out) {
        return withBudgets(pid, new PrintStream(PrintStream.nullOutputStream()), (server, name) -> {
            out.print((String) server.invoke(name, "status", new Object[0], new String[0]));
            return 0;
        });
    }

    /** True when a process with this id (digits only) runs; otherwise says so in one line. */
    static boolean isRunning(String pid, PrintStream err) {
        if (ProcessHandle.of(Long.parseLong(pid)).filter(ProcessHandle::isAlive).isPresent()) {
            return true;
        }
        err.println("TokenGuard: no process " + pid + " is running; find the JVM's process id with: java -jar "
                + "tokenguard-agent.jar list");
        return false;
    }

    private interface BudgetsCall {
        int run(MBeanServerConnection server, ObjectName name) throws JMException, IOException;
    }

    private static int withBudgets(String pid, PrintStream err, BudgetsCall call) {
        if (pid.isEmpty() || pid.length() > 18 || !pid.chars().allMatch(Character::isDigit)) {
            err.println("TokenGuard: expected the process id of a running JVM, a whole number; got '" + pid + "'");
            return 2;
        }
        if (!isRunning(pid, err)) {
            return 1;
        }
        VirtualMachine vm;
        try {
            vm = VirtualMachine.attach(pid);
        } catch (AttachNotSupportedException | IOException e) {
            err.println("TokenGuard: cannot attach to JVM " + pid + " (" + e.getMessage() + "); it must be a running "
                    + "JVM of the same user, started without -XX:+DisableAttachMechanism");
            return 1;
        }
        String address;
        try {
            if (vm.getSystemProperties().getProperty(TokenGuardAgent.INSTALLED_PROPERTY) == null) {
                err.println("TokenGuard is not running in JVM " + pid + "; load it with: java -jar "
                        + "tokenguard-agent.jar attach " + pid);
                return 1;
            }
            address = vm.startLocalManagementAgent();
        } catch (IOException e) {
            err.println("TokenGuard: cannot start the local JMX connector of JVM " + pid + " (" + e + ")");
            return 1;
        } finally {
            try {
                vm.detach();
            } catch (IOException ignored) {
                // the connector address is known or not; detaching changes neither
            }
        }
        try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(address))) {
            MBeanServerConnection server = connector.getMBeanServerConnection();
            ObjectName name = new ObjectName(BudgetsRegistration.OBJECT_NAME);
            long deadline = System.nanoTime() + REGISTRATION_WAIT_MILLIS * 1_000_000;
            while (!server.isRegistered(name)) {
                if (System.nanoTime() > deadline) {
                    err.println("TokenGuard: JVM " + pid + " runs TokenGuard but shows no " + name + " MBean (its "
                            + "configuration may have disabled it, see that JVM's stderr)");
                    return 1;
                }
                Thread.sleep(50); // the agent's background thread registers it once the connector is up
            }
            return call.run(server, name);
        } catch (JMException | IOException e) {
            err.println("TokenGuard: cannot read the budgets of JVM " + pid + " over JMX (" + e + ")");
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }
}
