package dev.tokenguard.agent;

import com.sun.tools.attach.AgentInitializationException;
import com.sun.tools.attach.AgentLoadException;
import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;
import dev.tokenguard.config.ConfigException;
import dev.tokenguard.config.ConfigLoader;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * {@code java -jar tokenguard-agent.jar attach <pid> [k=v,...]}: loads this agent jar into a running JVM, the
 * arguments as they would follow {@code -javaagent:tokenguard-agent.jar=}.
 *
 * <p>From Java 21 on, the JDK itself prints a warning in the target JVM when an agent is loaded into it while it
 * runs (JEP 451), unless that JVM was started with {@code -XX:+EnableDynamicAgentLoading}; nothing the agent does
 * can avoid that line, so the command says so before it attaches, naming the flag.
 */
final class AttachCommand {
    /** The flag that lets a JVM of Java 21 or later load agents at run time without a warning. */
    static final String DYNAMIC_LOADING_FLAG = "-XX:+EnableDynamicAgentLoading";
    /** How a configuration error ends at start-up; an attach loads nothing instead. */
    private static final String DISABLED = "; TokenGuard is disabled, the application runs uninstrumented";

    private AttachCommand() {
    }

    static int run(String pid, String agentArgs, PrintStream out, PrintStream err) {
        if (!pid.chars().allMatch(Character::isDigit) || pid.isEmpty() || pid.length() > 18) {
            err.println("TokenGuard: attach needs the process id of a running JVM, a whole number; got '" + pid + "'");
            return 2;
        }
        if (!ControlCommand.isRunning(pid, err)) {
            return 1;
        }
        if (agentArgs != null) {
            // the arguments are checked here, where their error can be seen; the target's own -Dtokenguard.*,
            // TOKENGUARD_* and configuration file are checked by the agent in that JVM (its stderr)
            try {
                ConfigLoader.load(agentArgs, new Properties(), Map.of());
            } catch (ConfigException e) {
                err.println(e.getMessage().replace(DISABLED, "") + "; nothing loaded into JVM " + pid);
                return 2;
            }
        }
        Path jar;
        try {
            jar = Path.of(AttachCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | RuntimeException e) {
            err.println("TokenGuard: cannot find the agent jar this command runs from (" + e + ")");
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
        try {
            Properties system = vm.getSystemProperties();
            String version = system.getProperty("java.specification.version", "?");
            String running = system.getProperty(TokenGuardAgent.INSTALLED_PROPERTY);
            if (running != null) {
                out.println("TokenGuard " + running + " is already running in JVM " + pid + "; nothing loaded"
                        + " (change its budgets with: set " + pid + " key=value)");
                return 0;
            }
            String jvmArgs = vm.getAgentProperties().getProperty("sun.jvm.args", "");
            if (warnsOnDynamicLoading(version, jvmArgs)) {
                out.println("TokenGuard: JVM " + pid + " runs Java " + version + ", which prints a WARNING about an "
                        + "agent loaded into a running JVM (JDK policy, JEP 451); start it with "
                        + DYNAMIC_LOADING_FLAG + " to allow that without the warning, or with "
                        + "-javaagent:tokenguard-agent.jar");
            }
            vm.loadAgent(jar.toString(), agentArgs);
            out.println("TokenGuard: attached to JVM " + pid + " (Java " + version + ")"
                    + (agentArgs == null ? "" : " with " + agentArgs));
        } catch (AgentLoadException | AgentInitializationException | IOException e) {
            err.println("TokenGuard: could not load the agent into JVM " + pid + " (" + e + ")");
            return 1;
        } finally {
            try {
                vm.detach();
            } catch (IOException ignored) {
                // the agent is loaded or not; detaching changes neither
            }
        }
        if (ControlCommand.printStatusAfterAttach(pid, out) != 0) {
            err.println("TokenGuard: the agent loaded into JVM " + pid + " governs nothing: that JVM's own settings "
                    + "(-Dtokenguard.*, TOKENGUARD_*, tokenguard.config.file) disable it or are invalid; its stderr "
                    + "says which");
            return 1;
        }
        return 0;
    }

    /**
     * True when a JVM of this Java version, started with these options, prints the JDK's warning about an agent
     * loaded at run time: Java 21 and later, unless the flag allows dynamic loading.
     */
    static boolean warnsOnDynamicLoading(String specificationVersion, String jvmArgs) {
        int feature;
        try {
            feature = Integer.parseInt(specificationVersion.startsWith("1.")
                    ? specificationVersion.substring(2) : specificationVersion);
        } catch (NumberFormatException e) {
            return false;
        }
        return feature >= 21 && !jvmArgs.contains(DYNAMIC_LOADING_FLAG);
    }
}
