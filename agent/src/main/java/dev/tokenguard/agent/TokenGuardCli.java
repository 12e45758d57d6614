package dev.tokenguard.agent;

import dev.tokenguard.config.ConfigException;
import dev.tokenguard.config.ConfigLoader;
import dev.tokenguard.config.TokenGuardConfig;
import dev.tokenguard.sessionlog.ReplayReport;
import dev.tokenguard.sessionlog.ServiceName;
import dev.tokenguard.sessionlog.SessionReplay;
import dev.tokenguard.sessionlog.UsageReport;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * {@code java -jar tokenguard-agent.jar report [--html FILE] [dir]}: totals of a session-log directory;
 * {@code ... attach <pid> [k=v,...]}: loads the agent into a running JVM; {@code ... list}: the local JVMs;
 * {@code ... status <pid>} / {@code ... set <pid> k=v ...}: read and change a running agent's budgets;
 * {@code ... restore [--service NAME] [--set k=v,...] [dir]}: what a restart would restore now;
 * {@code ... replay <session file or id> [--dir DIR] [--json]}: one session's calls, content and budget events in order.
 */
public final class TokenGuardCli {
    static final String USAGE = "usage: java -jar tokenguard-agent.jar report [--html FILE] [session-log dir, default tokenguard-sessions]"
            + " | attach <pid> [k=v,...] | list | status <pid> | set <pid> key=value... (or reset scope=<scope key>)"
            + " | restore [--service NAME] [--set key=value,...] [session-log dir] (budgets from the service's own"
            + " settings: -Dtokenguard.*, TOKENGUARD_*, tokenguard.config.file, or --set in agent-argument form)"
            + " | replay <session file or id> [--dir session-log dir] [--json]";

    private TokenGuardCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        if (args.length >= 2 && args.length <= 3 && args[0].equals("attach")) {
            return AttachCommand.run(args[1], args.length == 3 ? args[2] : null, System.out, System.err);
        }
        if (args.length == 1 && args[0].equals("list")) {
            return ControlCommand.list(System.out);
        }
        if (args.length == 2 && args[0].equals("status")) {
            return ControlCommand.status(args[1], System.out, System.err);
        }
        if (args.length >= 2 && args[0].equals("set")) {
            return ControlCommand.set(args[1], settings(args), System.out, System.err);
        }
        if (args.length > 0 && args[0].equals("restore")) {
            return restore(args);
        }
        if (args.length > 0 && args[0].equals("replay")) {
            return replay(args);
        }
        if (args.length == 0 || !args[0].equals("report")) {
            System.err.println(args.length == 0 ? USAGE
                    : "unknown command '" + String.join(" ", args) + "'; " + USAGE);
            return 2;
        }
        Path html = null;
        Path dir = null;
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--html")) {
                if (i + 1 == args.length || html != null) {
                    System.err.println(html != null ? "--html given twice; " + USAGE
                            : "--html needs the file to write, e.g. --html usage.html; " + USAGE);
                    return 2;
                }
                html = Path.of(args[++i]);
            } else if (dir == null && !args[i].startsWith("--")) {
                dir = Path.of(args[i]);
            } else {
                System.err.println("unexpected argument '" + args[i] + "' in '" + String.join(" ", args) + "'; " + USAGE);
                return 2;
            }
        }
        return UsageReport.run(dir == null ? Path.of("tokenguard-sessions") : dir, html, System.out, System.err);
    }

    /** The settings of {@code set <pid> ...}: each argument one, except {@code reset scope=<key>}, two words. */
    static java.util.List<String> settings(String[] args) {
        java.util.List<String> settings = new java.util.ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            if (args[i].equals("reset") && i + 1 < args.length) {
                settings.add("reset " + args[++i]);
            } else {
                settings.add(args[i]);
            }
        }
        return settings;
    }

    private static int restore(String[] args) {
        String service = null;
        String set = null;
        String dir = null;
        for (int i = 1; i < args.length; i++) {
            if ((args[i].equals("--service") || args[i].equals("--set")) && i + 1 < args.length) {
                if (args[i].equals("--service")) {
                    service = args[++i];
                } else {
                    set = args[++i];
                }
            } else if (dir == null && !args[i].startsWith("--")) {
                dir = args[i];
            } else {
                System.err.println("unexpected argument '" + args[i] + "'; " + USAGE);
                return 2;
            }
        }
        TokenGuardConfig config;
        try {
            config = ConfigLoader.load(set);
        } catch (ConfigException e) {
            System.err.println(e.getMessage().replace("; TokenGuard is disabled, the application runs uninstrumented",
                    ""));
            return 2;
        }
        if (service == null) {
            Map<String, String> otel = new HashMap<>();
            Properties system = System.getProperties();
            for (String name : system.stringPropertyNames()) {
                if (name.startsWith("otel.")) {
                    otel.put(name, system.getProperty(name));
                }
            }
            service = ServiceName.resolve(otel, System.getenv());
        }
        Path logs = dir != null ? Path.of(dir) : config.sessionLogDir();
        return ReplayReport.run(logs, service, config.budgets(), System.currentTimeMillis(), System.out, System.err);
    }

    private static int replay(String[] args) {
        String target = null;
        String dir = null;
        boolean json = false;
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--json") && !json) {
                json = true;
            } else if (args[i].equals("--dir") && dir == null) {
                if (i + 1 == args.length) {
                    System.err.println("--dir needs the session-log directory, e.g. --dir tokenguard-sessions; " + USAGE);
                    return 2;
                }
                dir = args[++i];
            } else if (target == null && !args[i].startsWith("--")) {
                target = args[i];
            } else {
                System.err.println("unexpected argument '" + args[i] + "' in '" + String.join(" ", args) + "'; "
                        + USAGE);
                return 2;
            }
        }
        if (target == null) {
            System.err.println("replay needs a session-log file or a session id (`report` lists the sessions); "
                    + USAGE);
            return 2;
        }
        Path logs = null;
        if (dir != null) {
            logs = Path.of(dir);
        } else if (!isFile(target)) { // a session id: looked up in the configured session-log directory
            try {
                logs = ConfigLoader.load(null).sessionLogDir();
            } catch (ConfigException e) {
                System.err.println(e.getMessage().replace(
                        "; TokenGuard is disabled, the application runs uninstrumented", ""));
                return 2;
            }
        }
        return SessionReplay.run(target, logs, json, System.out, System.err);
    }

    private static boolean isFile(String path) {
        try {
            return java.nio.file.Files.isRegularFile(Path.of(path));
        } catch (java.nio.file.InvalidPathException e) {
            return false;
        }
    }
}
