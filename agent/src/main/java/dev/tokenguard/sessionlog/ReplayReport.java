package dev.tokenguard.sessionlog;

import dev.tokenguard.budget.BudgetSpec;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code replay} command: what a restart would start from now. Reads a session-log directory as the agent's
 * start-up does ({@link WindowReplay}) for the given service and budgets, and prints, per budget and scope instance,
 * the calls, tokens and cost of the current window. Changes nothing.
 */
public final class ReplayReport {
    private ReplayReport() {
    }

    /**
     * @return 0 when printed, 1 when some file could not be read (still printed), 2 when {@code dir} is not a directory
     */
    public static int run(Path dir, String service, List<BudgetSpec> budgets, long nowMillis, PrintStream out,
                          PrintStream err) {
        if (dir == null || !Files.isDirectory(dir)) {
            err.println("tokenguard replay: session-log directory " + dir + " does not exist or is not a directory;"
                    + " expected the directory the agent writes to (tokenguard.session-log.dir, default"
                    + " tokenguard-sessions)");
            return 2;
        }
        List<WindowReplay.Target> targets = WindowReplay.targets(budgets, nowMillis);
        out.println("TokenGuard replay of " + dir + " for service " + service + ": what a restart now would start from");
        if (targets.isEmpty()) {
            out.println("no budget is restored: none has a window and a global or mdc: scope (e.g."
                    + " tokenguard.budget.scope=global and tokenguard.budget.window=1d)");
            return 0;
        }
        WindowReplay.Result r = WindowReplay.read(dir, service, targets, nowMillis, () -> false);
        for (String e : r.fileErrors()) {
            err.println("tokenguard replay: " + e);
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"budget", "scope", "window since", "calls", "input_tokens", "output_tokens",
                "total_tokens", "cost_usd"});
        for (WindowReplay.Target t : targets) {
            Map<String, WindowReplay.Usage> byScope = r.usage().get(t.budget());
            if (byScope == null) {
                continue;
            }
            byScope.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
                WindowReplay.Usage u = e.getValue();
                rows.add(new String[] {t.budget(), e.getKey(), Instant.ofEpochMilli(t.windowStartMillis()).toString(),
                        Long.toString(u.calls()), Long.toString(u.inputTokens()), Long.toString(u.outputTokens()),
                        Long.toString(u.inputTokens() + u.outputTokens()),
                        String.format(Locale.ROOT, "%.6f", u.costNanoUsd() / 1e9)});
            });
        }
        if (rows.size() == 1) {
            out.println("nothing to restore: no llm_call of this service in the current window of any restored budget");
        } else {
            int[] widths = new int[rows.get(0).length];
            for (String[] row : rows) {
                for (int i = 0; i < row.length; i++) {
                    widths[i] = Math.max(widths[i], row[i].length());
                }
            }
            for (String[] row : rows) {
                StringBuilder line = new StringBuilder();
                for (int i = 0; i < row.length; i++) {
                    if (i > 0) {
                        line.append("  ");
                    }
                    String pad = " ".repeat(widths[i] - row[i].length());
                    line.append(i < 3 ? row[i] + pad : pad + row[i]);
                }
                out.println(line.toString().stripTrailing());
            }
        }
        out.println();
        out.println("files of this service read: " + r.files() + ", lines: " + r.lines() + ", unreadable lines skipped: "
                + r.unreadableLines());
        return r.fileErrors().isEmpty() ? 0 : 1;
    }
}
