package dev.tokenguard.faults;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.otel.OtlpReceiver;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs faults in forked JVMs, each without the agent and with it, and compares what the app saw. A row is a
 * defect when the app saw anything different under the agent, when TokenGuard printed more than one line for it,
 * when a readable usage was not charged exactly, or when the API key shows up in any output (stdout, stderr, the
 * session log, the spans the agent exported).
 */
final class Matrix implements AutoCloseable {
    static final String APP = FaultApp.class.getName();

    /** A distinctive fake API key: any occurrence of it in an output is a leak. */
    final String apiKey = "sk-faultmatrix-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(12));
    final FaultServer server;
    final OtlpReceiver receiver;
    final Path work;
    private int runs;

    Matrix(Path work) throws IOException {
        this.work = work;
        this.server = new FaultServer();
        this.receiver = new OtlpReceiver();
    }

    /** One row of the table. */
    record Row(String fault, String without, String with, String tokens, int secrets, List<String> defects) {
        boolean ok() {
            return defects.isEmpty();
        }
    }

    /** What one run (one JVM, or a series for the SIGKILL row) left behind, for the secrets scan. */
    private record Run(ScenarioJvm.Outputs outputs, List<String> jsonl, String spans, int spanCount) {
    }

    /** Spans the fake OTLP receiver decoded in the server-fault runs: the secrets scan read them all. */
    int spansScanned;

    private Map<String, String> env() {
        return Map.of("OPENAI_API_KEY", apiKey);
    }

    private List<String> otel() {
        return List.of("-Dotel.exporter.otlp.endpoint=" + receiver.endpoint(), "-Dotel.bsp.schedule.delay=100",
                "-Dotel.metric.export.interval=60000", "-Dotel.service.name=fault-matrix");
    }

    private Path newDir(String what) throws IOException {
        return Files.createDirectories(work.resolve((++runs) + "-" + what));
    }

    private String spansText() {
        StringBuilder all = new StringBuilder();
        receiver.traces.forEach(t -> all.append(t).append('\n'));
        receiver.metrics.forEach(m -> all.append(m).append('\n'));
        return all.toString();
    }

    private int count(String text) {
        int n = 0;
        for (int i = text.indexOf(apiKey); i >= 0; i = text.indexOf(apiKey, i + 1)) {
            n++;
        }
        return n;
    }

    private int secrets(Run run) {
        return count(String.join("\n", run.outputs.stdout())) + count(String.join("\n", run.outputs.stderr()))
                + count(String.join("\n", run.jsonl)) + count(run.spans);
    }

    /**
     * How a run starts its app: {@link FaultApp} on a class path, or the Spring AI 1.x service of
     * {@code it-apps/spring-ai1-boot3} as its Boot jar, whose {@code --steps} take the same steps.
     */
    private record App(String classPath, Path bootJar) {
        String mainClass() {
            return bootJar == null ? APP : "-jar";
        }

        List<String> args(List<String> steps, String root) {
            if (bootJar == null) {
                return steps;
            }
            return List.of(bootJar.toString(), "--spring.ai.openai.base-url=" + root,
                    "--spring.ai.anthropic.base-url=" + root,
                    "--steps=" + String.join(",", steps.stream().map(s -> "fault:" + s).toList()));
        }
    }

    private Run runFaults(String what, String agentArgs, List<Fault> faults, App app, List<String> jvmOptions)
            throws Exception {
        server.reset();
        receiver.traces.clear();
        receiver.metrics.clear();
        Path dir = newDir(what);
        List<String> steps = new ArrayList<>();
        for (Fault f : faults) {
            steps.add(f.name() + "=" + server.baseUrl(f.mode()) + "=" + f.scenario());
        }
        List<String> options = new ArrayList<>(otel());
        options.addAll(jvmOptions);
        ScenarioJvm.Outputs out = ScenarioJvm.start(dir, agentArgs, options, env(), app.classPath(), app.mainClass(),
                app.args(steps, server.root())).await(300);
        int spans = receiver.traces.stream().mapToInt(t -> t.getResourceSpansList().stream()
                .mapToInt(rs -> rs.getScopeSpansList().stream().mapToInt(ss -> ss.getSpansCount()).sum()).sum()).sum();
        spansScanned += spans;
        return new Run(out, ScenarioJvm.jsonlLines(dir.resolve("tokenguard-sessions")), spansText(), spans);
    }

    /**
     * The server faults: one JVM without the agent, one with it (content capture off) and one with content capture
     * on, each running every fault in turn on a thread of its own.
     */
    List<Row> serverFaults(List<Fault> faults) throws Exception {
        return serverFaults(faults, ScenarioJvm.classPath());
    }

    /** The server faults with the app on {@code classPath} (e.g. another openai-java version). */
    List<Row> serverFaults(List<Fault> faults, String classPath) throws Exception {
        return serverFaults(faults, new App(classPath, null), List.of());
    }

    /**
     * The server faults of an app that calls the fake server over plain HTTP: the fake server is configured as an
     * OpenAI endpoint of the agent's raw-HTTP layer ({@code tokenguard.http.endpoints}).
     */
    List<Row> rawHttpFaults(List<Fault> faults) throws Exception {
        return serverFaults(faults, new App(ScenarioJvm.classPath(), null),
                List.of("-Dtokenguard.http.endpoints=" + server.root() + "=openai"));
    }

    /** The server faults of the Spring AI 1.x service {@code bootJar}, whose steps stream through its OpenAiApi. */
    List<Row> springAiFaults(List<Fault> faults, Path bootJar) throws Exception {
        return serverFaults(faults, new App(ScenarioJvm.classPath(), bootJar), List.of());
    }

    private List<Row> serverFaults(List<Fault> faults, App app, List<String> jvmOptions) throws Exception {
        Run without = runFaults("server-no-agent", null, faults, app, jvmOptions);
        Map<String, Long> billedWithout = billed(faults);
        Run with = runFaults("server-agent", "", faults, app, jvmOptions);
        Map<String, Long> billed = billed(faults);
        Run capture = runFaults("server-agent-capture", "session-log.capture-content=true", faults, app,
                jvmOptions);
        Map<String, Long> billedCapture = billed(faults);
        List<Row> rows = new ArrayList<>();
        for (Fault f : faults) {
            List<String> defects = new ArrayList<>();
            String a = without.outputs.results().get(f.name());
            String b = with.outputs.results().get(f.name());
            String c = capture.outputs.results().get(f.name());
            if (a == null || b == null || c == null) {
                defects.add("no outcome printed (without: " + a + ", with: " + b + ", capture on: " + c + ")");
            } else {
                if (!a.equals(b)) {
                    defects.add("with the agent the app saw: " + b);
                }
                if (!a.equals(c)) {
                    defects.add("with the agent and content capture the app saw: " + c);
                }
            }
            for (Run r : List.of(with, capture)) {
                List<String> lines = r.outputs.agentLines(f.name());
                if (lines.size() > 1) {
                    defects.add(lines.size() + " TokenGuard lines: " + lines);
                }
            }
            if (!billedWithout.get(f.name()).equals(billed.get(f.name()))
                    || !billed.get(f.name()).equals(billedCapture.get(f.name()))) {
                defects.add("the server billed " + billedWithout.get(f.name()) + " tokens without the agent, "
                        + billed.get(f.name()) + " and " + billedCapture.get(f.name()) + " with it");
            }
            long charged = charged(with.jsonl, f.name());
            long chargedCapture = charged(capture.jsonl, f.name());
            long lost = billed.get(f.name()) - charged;
            switch (f.charge()) {
                case EXACT -> {
                    if (lost != 0 || billedCapture.get(f.name()) - chargedCapture != 0) {
                        defects.add("the server reported its usage, yet " + lost + " tokens were not charged");
                    }
                }
                case FIRST_ESTIMATED -> {
                    for (Run r : List.of(with, capture)) {
                        String problem = firstEstimatedThenExact(r.jsonl, f.name(), billed.get(f.name()));
                        if (problem != null) {
                            defects.add(problem);
                        }
                    }
                }
                case ESTIMATED -> {
                    // nothing readable to charge exactly: the row states what was lost
                }
            }
            int secrets = secretsOf(without, f.name()) + secretsOf(with, f.name()) + secretsOf(capture, f.name());
            if (secrets > 0) {
                defects.add("the API key appeared " + secrets + " times in the outputs");
            }
            String tokens = billed.get(f.name()) + " billed, " + charged + " charged" + switch (f.charge()) {
                case EXACT -> "";
                case FIRST_ESTIMATED -> " (the first stream estimated, the second exact)";
                case ESTIMATED -> " (estimated or not reported)";
            } + ": " + lost + " lost";
            rows.add(new Row(f.name() + ": " + f.description(), a, b, tokens, secrets, defects));
        }
        int all = secrets(without) + secrets(with) + secrets(capture);
        if (all > 0 && rows.stream().allMatch(r -> r.secrets == 0)) {
            rows.add(new Row("secrets outside any step", "", "", "", all, List.of("the API key appeared " + all
                    + " times in the outputs of the server-fault runs")));
        }
        return rows;
    }

    private Map<String, Long> billed(List<Fault> faults) {
        Map<String, Long> m = new java.util.HashMap<>();
        for (Fault f : faults) {
            m.put(f.name(), server.billed(f.mode()));
        }
        return m;
    }

    /** The key's occurrences in what step {@code name} printed, in its session log, and in every span of the run. */
    private int secretsOf(Run run, String name) {
        String result = run.outputs.results().getOrDefault(name, "");
        String prefix = "\"session\":\"thread:fault-" + name + "#";
        String jsonl = String.join("\n", run.jsonl.stream().filter(l -> l.contains(prefix)).toList());
        String stderr = String.join("\n", run.outputs.agentLines(name));
        return count(result) + count(jsonl) + count(stderr) + count(run.spans);
    }

    /**
     * Checks a {@link Fault.Charge#FIRST_ESTIMATED} row: one {@code llm_call} per answer the server billed (each
     * answer costs it {@link FaultServer#INPUT} + {@link FaultServer#OUTPUT}); the first estimated, every later one
     * charged exactly that. Returns what is wrong, or null.
     */
    static String firstEstimatedThenExact(List<String> jsonl, String name, long billed) {
        long perAnswer = FaultServer.INPUT + FaultServer.OUTPUT;
        List<JsonNode> calls = ScenarioJvm.parsed(jsonl).stream()
                .filter(e -> e.path("event").asText().equals("llm_call")
                        && e.path("session").asText().startsWith("thread:fault-" + name + "#"))
                .sorted(java.util.Comparator.comparingLong(e -> e.path("seq").asLong()))
                .toList();
        if (billed % perAnswer != 0 || calls.size() != billed / perAnswer || calls.size() < 2) {
            return calls.size() + " calls logged for " + billed + " tokens billed";
        }
        if (!calls.get(0).path("usage_source").asText().equals("estimated")) {
            return "the first stream was charged " + calls.get(0).path("usage_source").asText() + " usage";
        }
        for (JsonNode call : calls.subList(1, calls.size())) {
            if (call.path("total_tokens").asLong(-1) != perAnswer
                    || !call.path("usage_source").asText().equals("provider")) {
                return "a later stream was charged " + call.path("total_tokens") + " ("
                        + call.path("usage_source").asText() + "), not the " + perAnswer + " the server reported";
            }
        }
        return null;
    }

    /** The total tokens of the llm_call events of step {@code name}'s session (its thread). */
    static long charged(List<String> jsonl, String name) {
        long sum = 0;
        for (JsonNode e : ScenarioJvm.parsed(jsonl)) {
            if (e.path("event").asText().equals("llm_call")
                    && e.path("session").asText().startsWith("thread:fault-" + name + "#")) {
                sum += e.path("total_tokens").asLong(0);
            }
        }
        return sum;
    }

    // ---- process faults ----

    /**
     * SIGKILL during calls and streams, {@code kills} times in a row on one session-log directory with a windowed
     * global budget, each JVM the restart of the one before. Every JSONL line must parse, {@code report} must read
     * them all, and every restart must have replayed the spend: each call's {@code budget.used} is the sum of every
     * call logged before it plus its own.
     */
    Row sigkill(int kills) throws Exception {
        String agentArgs = "budget.scope=global,budget.window=1h,budget.max-tokens=100000000";
        List<String> defects = new ArrayList<>();
        String step = "loop=" + server.baseUrl("slow-stream") + "=loop";
        // without the agent: one kill is enough to see what the app sees
        server.reset();
        ScenarioJvm plain = ScenarioJvm.start(newDir("kill-no-agent"), null, List.of(), env(), APP, List.of(step));
        if (!server.awaitRequests(3, 120)) {
            defects.add("the app without the agent made no calls");
        }
        plain.kill();
        ScenarioJvm.Outputs plainOut = plain.outputs();
        String without = "killed, exit " + plainOut.exitCode();
        Path dir = newDir("kill-agent");
        long billed = 0;
        List<Integer> exits = new ArrayList<>();
        int secrets = count(String.join("\n", plainOut.stdout())) + count(String.join("\n", plainOut.stderr()));
        for (int i = 0; i < kills; i++) {
            server.reset();
            ScenarioJvm jvm = ScenarioJvm.start(dir, agentArgs, List.of(), env(), APP, List.of(step));
            // kill after 2, 3, 4 or 5 requests: during a call or in the middle of a paced stream
            if (!server.awaitRequests(2 + i % 4, 120)) {
                defects.add("run " + (i + 1) + " made no calls");
            }
            jvm.kill();
            ScenarioJvm.Outputs o = jvm.outputs();
            exits.add(o.exitCode());
            secrets += count(String.join("\n", o.stdout())) + count(String.join("\n", o.stderr()));
            List<String> agentLines = o.agentLines(null);
            if (agentLines.size() > 1) {
                defects.add("run " + (i + 1) + " printed " + agentLines);
            }
            billed += server.billed("slow-stream");
        }
        List<String> lines = ScenarioJvm.jsonlLines(dir.resolve("tokenguard-sessions"));
        secrets += count(String.join("\n", lines));
        int torn = ScenarioJvm.unparseable(lines);
        if (torn > 0) {
            defects.add(torn + " of " + lines.size() + " JSONL lines do not parse");
        }
        List<JsonNode> calls = ScenarioJvm.parsed(lines).stream()
                .filter(e -> e.path("event").asText().equals("llm_call"))
                .sorted(java.util.Comparator.comparing(e -> Instant.parse(e.path("ts").asText())))
                .toList();
        long running = 0;
        int mismatched = 0;
        String firstMismatch = null;
        for (JsonNode call : calls) {
            running += call.path("total_tokens").asLong(0);
            long used = call.path("budget").path(0).path("used").asLong(-1);
            if (used != running) {
                mismatched++;
                if (firstMismatch == null) {
                    firstMismatch = "used " + used + " where the calls logged so far add up to " + running;
                }
            }
        }
        if (calls.isEmpty()) {
            defects.add("no llm_call logged in " + kills + " runs");
        }
        if (mismatched > 0) {
            defects.add(mismatched + " of " + calls.size() + " calls were not charged on the replayed spend: "
                    + firstMismatch);
        }
        ScenarioJvm.Outputs report = ScenarioJvm.start(dir, null, List.of(), Map.of(), "-jar",
                List.of(ScenarioJvm.AGENT_JAR.toString(), "report", "tokenguard-sessions")).await(120);
        String reportText = String.join("\n", report.stdout());
        Matcher skipped = Pattern.compile("unreadable lines skipped: (\\d+)").matcher(reportText);
        int unreadable = skipped.find() ? Integer.parseInt(skipped.group(1)) : 0;
        if (report.exitCode() != 0 || !reportText.contains("TOTAL") || unreadable != 0) {
            defects.add("report exit " + report.exitCode() + ", " + unreadable + " unreadable lines: "
                    + String.join(" / ", report.stdout()) + String.join(" / ", report.stderr()));
        }
        if (exits.stream().anyMatch(e -> e != plainOut.exitCode())) {
            defects.add("exit codes with the agent: " + exits);
        }
        if (secrets > 0) {
            defects.add("the API key appeared " + secrets + " times");
        }
        long charged = calls.stream().mapToLong(c -> c.path("total_tokens").asLong(0)).sum();
        String with = "killed " + kills + " times, exit " + (exits.stream().distinct().toList()) + "; "
                + lines.size() + " JSONL lines, " + torn + " torn; `report` exit " + report.exitCode() + ", "
                + unreadable + " unreadable; spend replayed at each restart for " + (calls.size() - mismatched)
                + " of " + calls.size() + " calls";
        return new Row("SIGKILL during calls and streams (" + kills + " times, windowed global budget)", without, with,
                billed + " billed, " + charged + " charged: " + (billed - charged)
                        + " lost (calls in flight when killed)", secrets, defects);
    }

    /** {@code System.exit(3)} from the thread that is reading a stream. */
    Row exitFromCallThread() throws Exception {
        String step = "exit-in-stream=" + server.baseUrl("ok~exit") + "=exit-in-stream";
        server.reset();
        ScenarioJvm.Outputs a = ScenarioJvm.start(newDir("exit-no-agent"), null, List.of(), env(), APP, List.of(step))
                .await(120);
        server.reset();
        Path dir = newDir("exit-agent");
        ScenarioJvm.Outputs b = ScenarioJvm.start(dir, "", List.of(), env(), APP, List.of(step)).await(120);
        long billed = server.billed("ok~exit");
        List<String> lines = ScenarioJvm.jsonlLines(dir.resolve("tokenguard-sessions"));
        List<String> defects = new ArrayList<>();
        String without = "exit " + a.exitCode() + ": " + a.results();
        String with = "exit " + b.exitCode() + ": " + b.results();
        if (!without.equals(with)) {
            defects.add("with the agent: " + with);
        }
        int torn = ScenarioJvm.unparseable(lines);
        if (torn > 0 || lines.isEmpty()) {
            defects.add(torn + " of " + lines.size() + " JSONL lines do not parse");
        }
        if (!b.agentLines(null).isEmpty()) {
            defects.add("TokenGuard printed " + b.agentLines(null));
        }
        List<JsonNode> calls = ScenarioJvm.parsed(lines).stream()
                .filter(e -> e.path("event").asText().equals("llm_call")).toList();
        long charged = calls.stream().mapToLong(e -> e.path("total_tokens").asLong(0)).sum();
        // the stream was in flight when the app exited: one llm_call, written at shutdown, an estimate of the
        // request and of the one chunk read, marked so; nothing of it lost
        if (calls.size() != 1) {
            defects.add(calls.size() + " llm_call lines for the one stream in flight at exit");
        } else {
            JsonNode call = calls.get(0);
            if (!call.path("error_type").asText().equals("dev.tokenguard.core.InFlightAtShutdown")
                    || !call.path("usage_source").asText().equals("estimated") || charged <= 0) {
                defects.add("the stream in flight at exit was logged as " + call);
            }
        }
        List<JsonNode> ends = ScenarioJvm.parsed(lines).stream()
                .filter(e -> e.path("event").asText().equals("session_end")).toList();
        long ended = ends.stream().mapToLong(e -> e.path("total_tokens").asLong(0)).sum();
        if (ends.isEmpty() || ended != charged) {
            defects.add("the sessions ended with " + ended + " tokens, the calls charged " + charged);
        }
        int secrets = count(String.join("\n", a.stdout()) + String.join("\n", a.stderr())
                + String.join("\n", b.stdout()) + String.join("\n", b.stderr()) + String.join("\n", lines));
        if (secrets > 0) {
            defects.add("the API key appeared " + secrets + " times");
        }
        return new Row("`System.exit(3)` from the thread reading a stream", without, with
                + "; " + lines.size() + " JSONL lines, " + torn + " torn",
                billed + " billed, " + charged + " charged (estimated: the stream was in flight at exit, its first"
                        + " chunk read; logged at shutdown as `error_type` `InFlightAtShutdown`): "
                        + (billed - charged) + " lost",
                secrets, defects);
    }

    /** {@code threads} threads × {@code calls} calls on one client: every token charged, nothing else changed. */
    Row threads(int threads, int calls) throws Exception {
        String step = "threads=" + server.baseUrl("threads") + "=threads:" + threads + ":" + calls;
        server.reset();
        ScenarioJvm.Outputs a = ScenarioJvm.start(newDir("threads-no-agent"), null, List.of(), env(), APP,
                List.of(step)).await(600);
        long billedWithout = server.billed("threads");
        server.reset();
        Path dir = newDir("threads-agent");
        ScenarioJvm.Outputs b = ScenarioJvm.start(dir, "", List.of(), env(), APP, List.of(step)).await(600);
        long billed = server.billed("threads");
        List<String> lines = ScenarioJvm.jsonlLines(dir.resolve("tokenguard-sessions"));
        List<String> defects = new ArrayList<>();
        String without = a.results().get("threads");
        String with = b.results().get("threads");
        long expected = (long) threads * calls * (FaultServer.INPUT + FaultServer.OUTPUT);
        if (without == null || !without.equals(with)) {
            defects.add("with the agent: " + with);
        }
        if (billedWithout != expected || billed != expected) {
            defects.add("the server billed " + billedWithout + " and " + billed + ", not " + expected);
        }
        int torn = ScenarioJvm.unparseable(lines);
        List<JsonNode> events = ScenarioJvm.parsed(lines);
        long logged = events.stream().filter(e -> e.path("event").asText().equals("llm_call")).count();
        long charged = events.stream().filter(e -> e.path("event").asText().equals("llm_call"))
                .mapToLong(e -> e.path("total_tokens").asLong(0)).sum();
        if (torn > 0 || logged != (long) threads * calls || charged != billed) {
            defects.add(logged + " calls logged, " + charged + " tokens charged, " + torn + " torn lines");
        }
        if (b.agentLines(null).size() > 1) {
            defects.add("TokenGuard printed " + b.agentLines(null));
        }
        int secrets = count(String.join("\n", a.stdout()) + String.join("\n", a.stderr())
                + String.join("\n", b.stdout()) + String.join("\n", b.stderr()) + String.join("\n", lines));
        if (secrets > 0) {
            defects.add("the API key appeared " + secrets + " times");
        }
        return new Row(threads + " threads × " + calls + " calls", without, with,
                billed + " billed, " + charged + " charged: " + (billed - charged) + " lost", secrets, defects);
    }

    // ---- the report ----

    static String markdown(List<Row> server, List<Row> process, String command) {
        return markdown(server, null, List.of(), process, command);
    }

    /**
     * The report; {@code oldest} (may be empty) are the server faults again with the oldest openai-java the agent
     * supports, version {@code oldestVersion}.
     */
    static String markdown(List<Row> server, String oldestVersion, List<Row> oldest, List<Row> process,
                           String command) {
        return markdown(server, oldestVersion, oldest, List.of(), List.of(), process, command);
    }

    /**
     * The report, with {@code rawHttp} and {@code springAi} (either may be empty): stream faults of an app on plain
     * HTTP, no SDK, and of a Spring AI 1.x service.
     */
    static String markdown(List<Row> server, String oldestVersion, List<Row> oldest, List<Row> rawHttp,
                           List<Row> springAi, List<Row> process, String command) {
        StringBuilder md = new StringBuilder();
        md.append("# Reliability: the fault matrix\n\n");
        md.append("Every fault below runs in forked JVMs, once without the agent and once with it (server faults a third ")
                .append("time with `session-log.capture-content=true`), against a loopback fake OpenAI server that ")
                .append("misbehaves on purpose, through the real openai-java SDK. A row passes when the app sees the same ")
                .append("thing with the agent as without it (same result, same exception and message), TokenGuard prints ")
                .append("at most one line for it, a usage the server reported is charged to the token, and the fake API ")
                .append("key (sent in the environment, a header and the request body's `user` field) appears in no output: ")
                .append("stdout, stderr, the JSONL session log, or the spans and metrics received by a fake OTLP receiver.\n\n");
        md.append("Regenerate with:\n\n```\n").append(command).append("\n```\n\n");
        md.append("Last run: ").append(Instant.now().truncatedTo(ChronoUnit.SECONDS)).append(", Java ")
                .append(System.getProperty("java.version")).append(" (").append(System.getProperty("java.vendor"))
                .append("), ").append(System.getProperty("os.name")).append(".\n\n");
        md.append("Tokens: every answer the server generates costs it 11 input + 7 output tokens (its own ledger); ")
                .append("\"charged\" is the sum of `total_tokens` in the session log. Where the server did not report a ")
                .append("readable usage the agent charges a local estimate (`usage_source` `estimated`), so the two differ.\n\n");
        md.append("## Server faults\n\n");
        table(md, server);
        md.append("""

                A usage chunk nobody asked for. OpenAI reports a stream's usage only when the request asks \
                (`stream_options.include_usage`); some OpenAI-compatible gateways send a usage chunk whether asked \
                or not, and one that sends exactly one (row `usage-once`) sends the same bytes as a server that \
                honours the ask. So the agent learns, per endpoint (base URL), from the first stream that does not \
                ask: that stream goes out as the app built it. A usage chunk that comes anyway marks the endpoint as \
                sending usage unasked: the agent never asks there and never hides anything, and charges the \
                server's own usage (rows `usage-once`, `usage-unasked`: exact). A stream that runs to its end \
                without one marks it as reporting usage only when asked: that first stream is charged a local \
                estimate (input counted from the request, output from the streamed text; in row `ok-stream` 14 of \
                the 18 tokens billed), and from then on the agent asks and hides the one usage-only chunk that asking \
                adds (the second stream of rows `ok-stream` and `500-retried-stream`: exact). OpenAI's and Azure \
                OpenAI's own hosts report usage only when asked, so they are never probed.
                """);
        if (!oldest.isEmpty()) {
            md.append("\n## Server faults, oldest supported openai-java (").append(oldestVersion).append(")\n\n");
            md.append("The same faults with the app on the oldest openai-java version the agent supports.\n\n");
            table(md, oldest);
        }
        if (!rawHttp.isEmpty()) {
            md.append("\n## Stream faults, raw HTTP (JDK HttpClient, no SDK)\n\n");
            md.append("The stream faults again, with an app that posts its chat streams with the JDK's own HTTP client ")
                    .append("and reads the event stream itself; the fake server is configured as an OpenAI endpoint ")
                    .append("of the agent's raw-HTTP layer (`tokenguard.http.endpoints`). That layer learns per ")
                    .append("endpoint as openai-java's does: the first stream that does not ask goes out as the app ")
                    .append("built it; usage that comes anyway is charged and never hidden (rows `http-usage-unasked`, ")
                    .append("`http-usage-once`: the app sees the gateway's chunk in both streams); a stream without ")
                    .append("usage is estimated, and later streams ask and hide the one chunk asking adds ")
                    .append("(row `http-ok-stream`).\n\n");
            table(md, rawHttp);
        }
        if (!springAi.isEmpty()) {
            md.append("\n## Stream faults, Spring AI 1.x\n\n");
            md.append("The stream faults again, with a Spring Boot 3 service that streams through Spring AI 1.1's own ")
                    .append("`OpenAiApi` (`chatCompletionStream`, not asking for usage) and reports the chunks it ")
                    .append("received. Spring AI's layer learns per endpoint as the others do: rows ")
                    .append("`springai-usage-unasked` and `springai-usage-once` charge the gateway's own chunk and ")
                    .append("hide nothing; in row `springai-ok-stream` the first stream is estimated and the second ")
                    .append("asks, its usage chunk hidden; in the missing / null rows the second stream's usage chunk, ")
                    .append("which carries no usage, is hidden as well.\n\n");
            table(md, springAi);
        }
        md.append("\n## Process faults\n\n");
        table(md, process);
        md.append("""

                ## File system, configuration, dependencies

                These rows are covered by their own tests rather than by this matrix:

                - session-log directory unwritable, disk full, `ulimit -f` (a torn line), a symlink, a directory where the \
                file should be: the session-log writer's unit tests and the session-log integration tests;
                - bad configuration values, and secret-looking values masked in configuration errors: `ConfigValuesTest`, \
                `ReadmeConfigTableTest` and the configuration tests beside them;
                - the app's own Byte Buddy, Jackson, OkHttp, Kotlin and OpenTelemetry SDK versions: `CleanStderrIT`, \
                `OpenAiAgentIT` and `OtelExportIT` (the app's own libraries on the class path next to the agent).
                """);
        return md.toString();
    }

    private static void table(StringBuilder md, List<Row> rows) {
        md.append("| fault | the app without the agent | with the agent | tokens | secrets found | verdict |\n");
        md.append("|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            md.append("| ").append(cell(r.fault())).append(" | ").append(cell(r.without())).append(" | ")
                    .append(cell(r.ok() && r.with().equals(r.without()) ? "same" : r.with())).append(" | ")
                    .append(cell(r.tokens())).append(" | ").append(r.secrets()).append(" | ")
                    .append(r.ok() ? "pass" : "**FAIL**: " + cell(String.join("; ", r.defects()))).append(" |\n");
        }
    }

    private static String cell(String s) {
        return s == null ? "" : s.replace("|", "\\|").replace("\n", " ");
    }

    static void write(Path file, String markdown) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, markdown, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        server.close();
        receiver.close();
    }
}
