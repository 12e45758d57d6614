package dev.tokenguard.agent;

import dev.tokenguard.config.ConfigException;
import dev.tokenguard.config.ConfigLoader;
import dev.tokenguard.config.TokenGuardConfig;
import dev.tokenguard.sessionlog.ReplayReport;
import dev.tokenguard.sessionlog.ServiceName;
import dev.tokenguard.sessionlog.UsageReport;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

/**
 * {@code java -jar tokenguard-agent.jar report [dir]}: totals of a session-log directory;
 * {@code ... replay [--service NAME] [--set k=v,...] [dir]}: what a restart would restore now.
 */
public final class TokenGuardCli {
    static final String USAGE = "usage: java -jar tokenguard-agent.jar report [session-log dir, default tokenguard-sessions]"
            + " | replay [--service NAME] [--set key=value,...] [session-log dir] (budgets from the service's own"
            + " settings: -Dtokenguard.*, TOKENGUARD_*, tokenguard.config.file, or --set in agent-argument form)";

    private TokenGuardCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        if (args.length > 0 && args[0].equals("replay")) {
            return replay(args);
        }
        if (args.length == 0 || !args[0].equals("report") || args.length > 2) {
            System.err.println(args.length == 0 ? USAGE
                    : "unknown command '" + String.join(" ", args) + "'; " + USAGE);
            return 2;
        }
        Path dir = Path.of(args.length == 2 ? args[1] : "tokenguard-sessions");
        return UsageReport.run(dir, System.out, System.err);
    }

    private static int replay(String[] args) {
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
}
