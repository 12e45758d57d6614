package dev.tokenguard.bench;

import dev.tokenguard.sample.stub.FakeOpenAiServer;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The benchmark: the sample app and a sync openai-java load with no agent, with TokenGuard and with
 * the OpenTelemetry Java agent, side by side (alternating, same JVM flags, same loopback fake
 * server), the retained heap per idle budget scope, and JMH of the budget engine. Prints one table
 * and writes it, as Markdown, to {@code bench.out}.
 *
 * <p>System properties (set by the {@code bench} profile of the integration-tests pom):
 * {@code bench.agent.jar}, {@code bench.sample.jar}, {@code bench.otel.jar}, {@code bench.otel.version},
 * {@code bench.work} (a scratch directory), {@code bench.out}, {@code bench.quick} ({@code true}: a
 * smoke run of about a minute whose numbers mean little).
 */
public final class Bench {
    /** The same JVM flags for every variant (startup runs use the JVM's defaults plus this heap). */
    static final List<String> COMMON_FLAGS = List.of("-Xms512m", "-Xmx512m");
    static final String NONE = "none";
    static final String TOKENGUARD = "tokenguard";
    static final String OTEL = "otel-agent";

    record Variant(String name, List<String> flags) {
    }

    record Settings(int startupRuns, int callRounds, int warmUp, int measured, int total, int mdcScopes,
                    int loggedScopes, int threads, int jmhWarmups, int jmhIterations, TimeValue jmhTime,
                    int virtualThreads) {
        /** {@link #of(boolean)} with the per-call rounds and calls of {@code bench.rounds}, {@code bench.warmup} and
         * {@code bench.calls} where given. */
        Settings withCallProperties() {
            int rounds = Integer.getInteger("bench.rounds", callRounds);
            int warm = Integer.getInteger("bench.warmup", warmUp);
            int calls = Integer.getInteger("bench.calls", measured);
            return new Settings(startupRuns, rounds, warm, calls, Math.max(total, warm + calls), mdcScopes,
                    loggedScopes, threads, jmhWarmups, jmhIterations, jmhTime, virtualThreads);
        }

        static Settings of(boolean quick) {
            return quick
                    ? new Settings(2, 1, 2_000, 2_000, 5_000, 10_000, 1_000, 200, 1, 2, TimeValue.milliseconds(500),
                    10_000)
                    : new Settings(11, 3, 20_000, 20_000, 100_000, 100_000, 20_000, 2_000, 3, 5, TimeValue.seconds(1),
                    100_000);
        }
    }

    private final Path work;
    private final Path sampleJar;
    private final Path agentJar;
    private final List<Variant> variants;
    private final Settings settings;
    private final String otelVersion;

    Bench(Path work, Path agentJar, Path sampleJar, Path otelJar, String otelVersion, Settings settings) {
        this.work = work;
        this.agentJar = agentJar;
        this.sampleJar = sampleJar;
        this.settings = settings;
        this.otelVersion = otelVersion;
        List<Variant> all = List.of(
                new Variant(NONE, List.of()),
                // JSONL session log on (the default); a budget that never refuses
                new Variant(TOKENGUARD, List.of("-javaagent:" + agentJar + "=budget.max-tokens=1000000000000")),
                // every exporter off: the instrumentation still creates spans and metrics, nothing is sent
                new Variant(OTEL, List.of("-javaagent:" + otelJar, "-Dotel.traces.exporter=none",
                        "-Dotel.metrics.exporter=none", "-Dotel.logs.exporter=none", "-Dotel.service.name=bench")));
        // -Dbench.variants=none,tokenguard: only those (the per-call rows)
        List<String> chosen = List.of(given("bench.variants", NONE + "," + TOKENGUARD + "," + OTEL)
                .split(","));
        this.variants = all.stream().filter(v -> chosen.contains(v.name())).toList();
    }

    public static void main(String[] args) throws Exception {
        boolean quick = Boolean.parseBoolean(System.getProperty("bench.quick", "false"));
        Path agentJar = existing("bench.agent.jar");
        Path sampleJar = existing("bench.sample.jar");
        Path otelJar = existing("bench.otel.jar");
        Path work = Files.createDirectories(Path.of(required("bench.work")).toAbsolutePath());
        Path out = Path.of(required("bench.out")).toAbsolutePath();
        Bench bench = new Bench(work, agentJar, sampleJar, otelJar, System.getProperty("bench.otel.version", "?"),
                Settings.of(quick).withCallProperties());
        // -Dbench.only=concurrency: only the reservation rows (about a minute); =idle-scopes: only the retained
        // bytes per idle scope (a minute or two); =call-site: only the call-site rows (a minute or two);
        // =redis: only the Redis store's cost per call (needs redis-server); =per-call: only the per-call rows
        // (-Dbench.rounds, -Dbench.calls, -Dbench.warmup, -Dbench.variants); =jmh: only the JMH benchmarks
        // (-Dbench.jmh.prof=gc adds B/op); =startup: only the start-up and peak RSS rows (-Dbench.startup.runs)
        String only = System.getProperty("bench.only");
        String table = "startup".equals(only)
                ? new Report(bench.settings, bench.otelVersion, bench.startup(), Map.of(), Map.of(), Map.of())
                        .startupMarkdown(bench.startupRss)
                : "redis".equals(only)
                ? "| metric | none | tokenguard | otel-agent | target | met? |\n| --- | ---: | ---: | ---: | --- | --- |\n"
                        + String.join("\n", RedisStoreLatency.rows(bench.redisStore())) + "\n"
                : "per-call".equals(only)
                ? new Report(bench.settings, bench.otelVersion, Map.of(), bench.perCall(), Map.of(), Map.of())
                        .perCallMarkdown()
                : "jmh".equals(only)
                ? jmhMarkdown(bench.jmh())
                : "concurrency".equals(only)
                ? "| metric | none | tokenguard | otel-agent | target | met? |\n| --- | ---: | ---: | ---: | --- | --- |\n"
                        + String.join("\n", ConcurrentBudget.rows(bench.concurrentBudget())) + "\n"
                : "idle-scopes".equals(only)
                ? new Report(bench.settings, bench.otelVersion, Map.of(), Map.of(), bench.idleScopes(), Map.of())
                        .idleScopesMarkdown()
                : "call-site".equals(only)
                ? new Report(bench.settings, bench.otelVersion, Map.of(), Map.of(), Map.of(), bench.callSite())
                        .callSiteMarkdown()
                : bench.run();
        System.out.println();
        System.out.println(table);
        Files.createDirectories(out.getParent());
        Files.writeString(out, table, StandardCharsets.UTF_8);
        System.out.println("written to " + out);
    }

    String run() throws Exception {
        Map<String, List<Double>> startup = startup();
        Map<String, Map<String, List<Double>>> calls = perCall();
        Map<String, Double> scopes = idleScopes();
        scopes.putAll(virtualThreadScopes());
        Map<String, Double> jmh = jmh();
        Map<String, Map<String, Long>> concurrent = concurrentBudget();
        return new Report(settings, otelVersion, startup, calls, scopes, jmh).markdown()
                + String.join("\n", ConcurrentBudget.rows(concurrent)) + "\n";
    }

    /** The budget work per call with the memory store and with a Redis store ({@code -Dbench.only=redis}). */
    Map<String, Double> redisStore() throws IOException, InterruptedException {
        Path dir = Files.createDirectories(work.resolve("redis-store"));
        List<String> command = new ArrayList<>();
        command.add(javaExecutable());
        command.addAll(COMMON_FLAGS);
        command.addAll(List.of("-cp", forkClassPath(true), RedisStoreLatency.class.getName(),
                String.valueOf(settings.measured()), dir.toString()));
        Map<String, Double> r = results(command, dir, "redis store");
        System.out.println("redis   " + r);
        return r;
    }

    Map<String, Map<String, Long>> concurrentBudget() throws Exception {
        return ConcurrentBudget.run(javaExecutable(), COMMON_FLAGS, agentJar, forkClassPath(false), work);
    }

    /** Peak resident set size of each start-up run, MB, per variant (filled by {@link #startup()}). */
    final Map<String, List<Double>> startupRss = new LinkedHashMap<>();

    /** Milliseconds from process start to the first completed call of the sample app, per variant. */
    Map<String, List<Double>> startup() throws IOException, InterruptedException {
        Map<String, List<Double>> ms = emptyResults();
        startupRss.putAll(emptyResults());
        int runs = Integer.getInteger("bench.startup.runs", settings.startupRuns());
        for (int round = 0; round < runs; round++) {
            for (Variant v : rotated(round)) {
                List<String> command = new ArrayList<>();
                command.add(javaExecutable());
                command.addAll(v.flags());
                command.addAll(COMMON_FLAGS);
                command.addAll(List.of("-jar", sampleJar.toString(), "--tickets", "1"));
                Path dir = Files.createDirectories(work.resolve("startup-" + v.name() + "-" + round));
                ProcessBuilder builder = cleanEnvironment(new ProcessBuilder(command).directory(dir.toFile()))
                        .redirectError(dir.resolve("stderr.txt").toFile());
                long start = System.nanoTime();
                Process process = builder.start();
                double firstCall = -1;
                long peakKb = -1;
                List<String> lines = new ArrayList<>();
                try (BufferedReader reader = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                        if (firstCall < 0 && line.startsWith("T-")) {
                            firstCall = (System.nanoTime() - start) / 1e6;
                        }
                        peakKb = Math.max(peakKb, peakRssKb(process.pid()));
                        lines.add(line);
                    }
                }
                int exit = waitFor(process, "the sample app (" + v.name() + ")");
                if (exit != 0 || firstCall < 0) {
                    throw new IllegalStateException("the sample app under " + v.name() + " exited " + exit
                            + " without a completed call; stdout:\n" + String.join("\n", lines)
                            + "\nstderr in " + dir.resolve("stderr.txt"));
                }
                ms.get(v.name()).add(firstCall);
                if (peakKb > 0) {
                    startupRss.get(v.name()).add(peakKb / 1024.0);
                }
                System.out.printf(Locale.ROOT, "startup %-10s round %2d: first call after %.0f ms, peak RSS %.0f MB%n",
                        v.name(), round + 1, firstCall, peakKb / 1024.0);
            }
        }
        return ms;
    }

    /**
     * The process's peak resident set size so far ({@code VmHWM} of Linux's {@code /proc/<pid>/status}), KB, or
     * -1 where there is none. Read at each line the sample app prints: its last line comes just before it exits.
     */
    static long peakRssKb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.substring(6).replace("kB", "").trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or the process has gone
        }
        return -1;
    }

    /** Per variant, per {@link CallLoad} result key, one value per round. */
    Map<String, Map<String, List<Double>>> perCall() throws IOException, InterruptedException {
        Map<String, Map<String, List<Double>>> results = new LinkedHashMap<>();
        variants.forEach(v -> results.put(v.name(), new LinkedHashMap<>()));
        ScheduledExecutorService forgetter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-forget-requests");
            t.setDaemon(true);
            return t;
        });
        try (FakeOpenAiServer server = FakeOpenAiServer.start()) {
            // the stub records every request; forget them so that its memory stays flat
            forgetter.scheduleAtFixedRate(server::reset, 1, 1, TimeUnit.SECONDS);
            for (int round = 0; round < settings.callRounds(); round++) {
                for (Variant v : rotated(round)) {
                    List<String> command = new ArrayList<>();
                    command.add(javaExecutable());
                    command.addAll(v.flags());
                    command.addAll(COMMON_FLAGS);
                    // -Dbench.extra.flags: more JVM flags for these runs, space-separated, {variant} and {round}
                    // replaced, e.g. -XX:StartFlightRecording=filename=calls-{variant}-{round}.jfr,settings=profile
                    // (a relative file lands in the run's own directory under bench.work)
                    for (String flag : given("bench.extra.flags", "").split(" ")) {
                        if (!flag.isBlank()) {
                            command.add(flag.replace("{variant}", v.name()).replace("{round}", String.valueOf(round)));
                        }
                    }
                    // the first round of each variant goes on to the total number of calls for the heap figure
                    int total = round == 0 ? settings.total() : settings.warmUp() + settings.measured();
                    command.addAll(List.of("-cp", forkClassPath(false), CallLoad.class.getName(), server.baseUrl(),
                            String.valueOf(settings.warmUp()), String.valueOf(settings.measured()),
                            String.valueOf(total)));
                    Path dir = Files.createDirectories(work.resolve("calls-" + v.name() + "-" + round));
                    Map<String, Double> r = results(command, dir, "per-call load (" + v.name() + ")");
                    if (round > 0) {
                        r.remove("heap_after_bytes");
                        r.remove("heap_growth_bytes");
                    }
                    r.forEach((k, value) -> results.get(v.name()).computeIfAbsent(k, x -> new ArrayList<>()).add(value));
                    System.out.printf(Locale.ROOT, "calls   %-10s round %d: %.0f calls/s, p50 %.0f us, p99 %.0f us, "
                                    + "%.0f B/call%n", v.name(), round + 1,
                            r.get("calls_per_s"), r.get("p50_us"), r.get("p99_us"), r.get("alloc_bytes_per_call"));
                }
            }
        } finally {
            forgetter.shutdownNow();
        }
        return results;
    }

    Map<String, Double> idleScopes() throws IOException, InterruptedException {
        Path dir = Files.createDirectories(work.resolve("idle-scopes"));
        List<String> command = new ArrayList<>();
        command.add(javaExecutable());
        command.addAll(COMMON_FLAGS);
        command.addAll(List.of("-cp", forkClassPath(true), IdleScopes.class.getName(),
                String.valueOf(settings.mdcScopes()), String.valueOf(settings.loggedScopes()),
                String.valueOf(settings.threads()), dir.resolve("sessions").toString()));
        Map<String, Double> r = results(command, dir, "idle scopes");
        System.out.println("scopes  " + r);
        return r;
    }

    /**
     * Retained heap before and after {@code 100,000} virtual threads (10,000 in a quick run) made one call each, in a
     * JVM of Java 21 or later ({@link #java21OrLater()}); empty when there is none.
     */
    Map<String, Double> virtualThreadScopes() throws IOException, InterruptedException {
        String java = java21OrLater();
        if (java == null) {
            System.out.println("virtual threads: no Java 21 or later found (JAVA25_HOME, JAVA21_HOME, /usr/lib/jvm); "
                    + "row left empty");
            return Map.of();
        }
        Path dir = Files.createDirectories(work.resolve("virtual-threads"));
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(COMMON_FLAGS);
        command.addAll(List.of("-cp", forkClassPath(true), VirtualThreadScopes.class.getName(),
                String.valueOf(settings.virtualThreads())));
        Map<String, Double> r = results(command, dir, "virtual-thread scopes");
        r.put("vt_java", (double) javaFeature(Path.of(java).getParent().getParent()));
        System.out.println("virtual " + r);
        return r;
    }

    /**
     * A {@code java} of release 21 or later: this JVM's own, else {@code JAVA25_HOME} or {@code JAVA21_HOME}, else
     * the newest JDK under {@code /usr/lib/jvm} whose {@code release} file says so; null when there is none.
     */
    static String java21OrLater() throws IOException {
        if (Runtime.version().feature() >= 21) {
            return javaExecutable();
        }
        for (String variable : List.of("JAVA25_HOME", "JAVA21_HOME")) {
            String home = System.getenv(variable);
            if (home != null && !home.isBlank() && javaFeature(Path.of(home)) >= 21) {
                return Path.of(home, "bin", "java").toString();
            }
        }
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return null;
        }
        Path best = null;
        int bestFeature = 0;
        try (var homes = Files.list(jvms)) {
            for (Path home : homes.sorted().toList()) {
                int feature = javaFeature(home);
                if (feature >= 21 && feature > bestFeature && Files.isExecutable(home.resolve("bin/java"))) {
                    best = home;
                    bestFeature = feature;
                }
            }
        }
        return best == null ? null : best.resolve("bin/java").toString();
    }

    /** The feature release a JDK's {@code release} file names ({@code JAVA_VERSION="25.0.3"}: 25), or 0. */
    static int javaFeature(Path home) throws IOException {
        Path release = home.resolve("release");
        if (!Files.isRegularFile(release)) {
            return 0;
        }
        for (String line : Files.readAllLines(release, StandardCharsets.UTF_8)) {
            if (line.startsWith("JAVA_VERSION=")) {
                try {
                    return Integer.parseInt(line.substring("JAVA_VERSION=".length()).replace("\"", "")
                            .split("[.+-]")[0]);
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 0;
    }

    /** The JMH figures as a two-column table ({@code -Dbench.only=jmh}). */
    static String jmhMarkdown(Map<String, Double> jmh) {
        StringBuilder t = new StringBuilder("| benchmark@threads | score |\n| --- | ---: |\n");
        jmh.forEach((k, v) -> t.append("| ").append(k).append(" | ")
                .append(String.format(Locale.ROOT, "%,.1f", v)).append(" |\n"));
        return t.toString();
    }

    Map<String, Double> jmh() throws Exception {
        Map<String, Double> r = new LinkedHashMap<>();
        boolean gc = "gc".equals(given("bench.jmh.prof", null));
        String include = given("bench.jmh.include", null);
        for (int threads : new int[] {1, 2}) {
            OptionsBuilder builder = new OptionsBuilder();
            if (gc) {
                builder.addProfiler(org.openjdk.jmh.profile.GCProfiler.class);
            }
            Options options = builder
                    .include(include != null ? include : BudgetEngineBench.class.getName() + "\\.")
                    .include(include != null ? include : CallSiteBench.class.getName() + "\\.")
                    .forks(1).threads(threads)
                    .warmupIterations(settings.jmhWarmups()).warmupTime(settings.jmhTime())
                    .measurementIterations(settings.jmhIterations()).measurementTime(settings.jmhTime())
                    .jvmArgs(COMMON_FLAGS.toArray(String[]::new))
                    .shouldFailOnError(true)
                    .build();
            Collection<RunResult> results = new Runner(options).run();
            for (RunResult result : results) {
                String method = result.getParams().getBenchmark();
                method = method.substring(method.lastIndexOf('.') + 1);
                r.put(method + "@" + threads, result.getPrimaryResult().getScore());
                for (var secondary : result.getSecondaryResults().entrySet()) {
                    if (secondary.getKey().endsWith("gc.alloc.rate.norm")) { // "·gc..." in older JMH versions
                        r.put(method + "@" + threads + " B/op", secondary.getValue().getScore());
                    }
                }
            }
        }
        if ("jmh".equals(System.getProperty("bench.only")) && include != null) {
            return r;
        }
        r.put("callSiteCpuNanos", CallSiteBench.cpuNanosPerCall(settings.jmhIterations() * 40_000));
        return r;
    }

    /** The call-site rows' figures alone: {@link CallSiteBench} on one thread, then its CPU time per call. */
    Map<String, Double> callSite() throws Exception {
        Map<String, Double> r = new LinkedHashMap<>();
        Options options = new OptionsBuilder()
                .include(CallSiteBench.class.getName() + "\\.")
                .forks(1).threads(1)
                .warmupIterations(settings.jmhWarmups()).warmupTime(settings.jmhTime())
                .measurementIterations(settings.jmhIterations()).measurementTime(settings.jmhTime())
                .jvmArgs(COMMON_FLAGS.toArray(String[]::new))
                .shouldFailOnError(true)
                .build();
        for (RunResult result : new Runner(options).run()) {
            String method = result.getParams().getBenchmark();
            r.put(method.substring(method.lastIndexOf('.') + 1) + "@1", result.getPrimaryResult().getScore());
        }
        r.put("callSiteCpuNanos", CallSiteBench.cpuNanosPerCall(settings.jmhIterations() * 40_000));
        return r;
    }

    private Map<String, Double> results(List<String> command, Path dir, String what)
            throws IOException, InterruptedException {
        Path stdout = dir.resolve("stdout.txt");
        Path stderr = dir.resolve("stderr.txt");
        Process process = cleanEnvironment(new ProcessBuilder(command).directory(dir.toFile()))
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        int exit = waitFor(process, what);
        List<String> lines = Files.readAllLines(stdout, StandardCharsets.UTF_8);
        if (exit != 0) {
            throw new IllegalStateException(what + " exited " + exit + "; stdout:\n" + String.join("\n", lines)
                    + "\nstderr:\n" + Files.readString(stderr, StandardCharsets.UTF_8));
        }
        Map<String, Double> r = new LinkedHashMap<>();
        for (String line : lines) {
            if (line.startsWith("RESULT ")) {
                String[] parts = line.split(" ");
                r.put(parts[1], Double.parseDouble(parts[2]));
            }
        }
        return r;
    }

    private List<Variant> rotated(int round) {
        List<Variant> order = new ArrayList<>(variants);
        java.util.Collections.rotate(order, -(round % order.size()));
        return order;
    }

    private Map<String, List<Double>> emptyResults() {
        Map<String, List<Double>> m = new LinkedHashMap<>();
        variants.forEach(v -> m.put(v.name(), new ArrayList<>()));
        return m;
    }

    /**
     * This JVM's class path less the benchmark's own tools (JMH) and, unless {@code withAgent}, less
     * the agent jar: an application's class path, as in the forked-JVM tests.
     */
    /** A system property, or {@code otherwise} when it is absent or blank (the pom passes every option, empty). */
    static String given(String key, String otherwise) {
        String value = System.getProperty(key);
        return value == null || value.isBlank() ? otherwise : value;
    }

    private String forkClassPath(boolean withAgent) {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !e.contains("jmh") && !e.contains("jopt-simple") && !e.contains("commons-math3"))
                .filter(e -> !e.contains("tokenguard-agent") && !e.replace('\\', '/').contains("agent/target"))
                .collect(Collectors.collectingAndThen(Collectors.toList(), l -> {
                    if (withAgent) {
                        l.add(agentJar.toString());
                    }
                    return String.join(File.pathSeparator, l);
                }));
    }

    private static ProcessBuilder cleanEnvironment(ProcessBuilder builder) {
        builder.environment().keySet().removeIf(k -> k.startsWith("TOKENGUARD_") || k.startsWith("OTEL_")
                || k.startsWith("OPENAI_") || k.equals("JAVA_TOOL_OPTIONS") || k.equals("JDK_JAVA_OPTIONS"));
        return builder;
    }

    private static int waitFor(Process process, String what) throws InterruptedException {
        if (!process.waitFor(10, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IllegalStateException(what + " did not end within 10 minutes");
        }
        return process.exitValue();
    }

    private static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String required(String key) {
        String value = System.getProperty(key);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("system property " + key + " is not set; run the benchmark with "
                    + "mvn -q -Pbench -DskipTests verify -pl integration-tests -am");
        }
        return value;
    }

    private static Path existing(String key) {
        Path p = Path.of(required(key)).toAbsolutePath().normalize();
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException(key + " names " + p + ", which is not a file; build it first with "
                    + "mvn -q -Pbench -DskipTests verify -pl integration-tests -am");
        }
        return p;
    }
}
