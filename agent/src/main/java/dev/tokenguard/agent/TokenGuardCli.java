package dev.tokenguard.agent;

import dev.tokenguard.sessionlog.UsageReport;

import java.nio.file.Path;

/**
 * {@code java -jar tokenguard-agent.jar report [dir]}: totals of a session-log directory;
 * {@code ... attach <pid> [k=v,...]}: loads the agent into a running JVM.
 */
public final class TokenGuardCli {
    static final String USAGE = "usage: java -jar tokenguard-agent.jar report [session-log dir, default tokenguard-sessions]"
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
        if (args.length == 0 || !args[0].equals("report") || args.length > 2) {
            System.err.println(args.length == 0 ? USAGE
                    : "unknown command '" + String.join(" ", args) + "'; " + USAGE);
            return 2;
        }
        Path dir = Path.of(args.length == 2 ? args[1] : "tokenguard-sessions");
        return UsageReport.run(dir, System.out, System.err);
    }
}
