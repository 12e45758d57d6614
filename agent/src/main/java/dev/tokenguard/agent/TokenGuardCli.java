package dev.tokenguard.agent;

import dev.tokenguard.sessionlog.UsageReport;

import java.nio.file.Path;

/**
 * {@code java -jar tokenguard-agent.jar report [--html FILE] [dir]}: totals of a session-log directory;
 * {@code ... attach <pid> [k=v,...]}: loads the agent into a running JVM.
 */
public final class TokenGuardCli {
    static final String USAGE = "usage: java -jar tokenguard-agent.jar report [--html FILE] [session-log dir, default tokenguard-sessions]"
            + " | attach <pid> [k=v,...]";

    private TokenGuardCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        if (args.length >= 2 && args.length <= 3 && args[0].equals("attach")) {
            return AttachCommand.run(args[1], args.length == 3 ? args[2] : null, System.out, System.err);
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
}
