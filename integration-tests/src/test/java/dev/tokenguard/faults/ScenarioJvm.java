package dev.tokenguard.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One forked JVM of the fault matrix: {@link FaultApp} (or any main class) on the test class path, with the built
 * agent on a real {@code -javaagent} flag or without it, in a working directory of its own. Unlike a test's usual
 * fork it can be killed half-way ({@link #kill}), which is what the SIGKILL rows do.
 */
final class ScenarioJvm {
    static final Path AGENT_JAR = Path.of(System.getProperty("tokenguard.agent.jar",
            "../agent/target/tokenguard-agent.jar")).toAbsolutePath().normalize();
    static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path workDir;
    private final Process process;
    private final Path out;
    private final Path err;

    private ScenarioJvm(Path workDir, Process process, Path out, Path err) {
        this.workDir = workDir;
        this.process = process;
        this.out = out;
        this.err = err;
    }

    /**
     * Starts a JVM.
     *
     * @param agentArgs null: no agent; else the agent's arguments (may be empty)
     */
    static ScenarioJvm start(Path workDir, String agentArgs, List<String> jvmOptions, Map<String, String> env,
                             String mainClass, List<String> args) throws IOException {
        return start(workDir, agentArgs, jvmOptions, env, classPath(), mainClass, args);
    }

    /** Starts a JVM on the given class path (e.g. {@link #classPathWithOpenAi}). */
    static ScenarioJvm start(Path workDir, String agentArgs, List<String> jvmOptions, Map<String, String> env,
                             String classPath, String mainClass, List<String> args) throws IOException {
        Files.createDirectories(workDir);
        List<String> command = new ArrayList<>();
        command.add(JAVA);
        if (agentArgs != null) {
            if (!Files.isRegularFile(AGENT_JAR)) {
                throw new IllegalStateException("agent jar not built: " + AGENT_JAR);
            }
            command.add("-javaagent:" + AGENT_JAR + (agentArgs.isEmpty() ? "" : "=" + agentArgs));
        }
        command.add("-Xshare:auto");
        command.add("-XX:TieredStopAtLevel=1");
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classPath);
        command.add(mainClass);
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("TOKENGUARD_") || k.startsWith("OTEL_")
                || k.startsWith("OPENAI_") || k.startsWith("ANTHROPIC_"));
        builder.environment().putAll(env);
        Path out = Files.createTempFile(workDir, "stdout", ".txt");
        Path err = Files.createTempFile(workDir, "stderr", ".txt");
        builder.redirectOutput(out.toFile()).redirectError(err.toFile());
        return new ScenarioJvm(workDir, builder.start(), out, err);
    }

    /** Kills the JVM with SIGKILL (no shutdown hook runs) and waits for it to be gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(60, TimeUnit.SECONDS);
    }

    /** Waits for the JVM to end on its own (at most {@code seconds}) and returns what it left behind. */
    Outputs await(long seconds) throws IOException, InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("the scenario JVM did not end within " + seconds + " s");
        }
        return outputs();
    }

    /** What the JVM printed and how it ended (it must have ended). */
    Outputs outputs() throws IOException {
        return new Outputs(process.exitValue(), Files.readAllLines(out, StandardCharsets.UTF_8),
                Files.readAllLines(err, StandardCharsets.UTF_8));
    }

    Path workDir() {
        return workDir;
    }

    /** What a JVM printed and how it ended. */
    record Outputs(int exitCode, List<String> stdout, List<String> stderr) {
        /** The {@code RESULT <name> <outcome>} lines as name → outcome. */
        Map<String, String> results() {
            return stdout.stream().filter(l -> l.startsWith("RESULT ")).map(l -> l.substring(7))
                    .collect(Collectors.toMap(l -> l.substring(0, l.indexOf(' ')), l -> l.substring(l.indexOf(' ') + 1),
                            (a, b) -> a + " | " + b, java.util.LinkedHashMap::new));
        }

        /**
         * TokenGuard's lines on stderr while step {@code name} ran (between its {@code STEP} marker and the next),
         * without the start-up lines that name the SDKs governed.
         */
        List<String> agentLines(String name) {
            List<String> lines = new ArrayList<>();
            boolean in = name == null;
            for (String l : stderr) {
                if (l.startsWith("STEP ")) {
                    in = name == null || l.equals("STEP " + name);
                } else if (in && isAgentLine(l)) {
                    lines.add(l);
                }
            }
            return lines;
        }

        static boolean isAgentLine(String l) {
            return (l.startsWith("[tokenguard]") || l.startsWith("TokenGuard")) && !l.contains("TokenGuard: governing ");
        }
    }

    /** Every line of every {@code .jsonl} file under {@code dir}, in file order (files sorted by name). */
    static List<String> jsonlLines(Path dir) throws IOException {
        List<String> lines = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return lines;
        }
        List<Path> files;
        try (Stream<Path> list = Files.walk(dir)) {
            files = list.filter(p -> p.toString().endsWith(".jsonl")).sorted().toList();
        }
        for (Path f : files) {
            lines.addAll(Files.readAllLines(f, StandardCharsets.UTF_8));
        }
        return lines;
    }

    /** The lines that parse as JSON objects; the others are counted by {@link #unparseable}. */
    static List<JsonNode> parsed(List<String> lines) {
        List<JsonNode> events = new ArrayList<>();
        for (String line : lines) {
            try {
                JsonNode n = JSON.readTree(line);
                if (n != null && n.isObject()) {
                    events.add(n);
                }
            } catch (IOException e) {
                // counted by unparseable
            }
        }
        return events;
    }

    static int unparseable(List<String> lines) {
        return lines.size() - parsed(lines).size();
    }

    /** {@link #classPath()} with the openai-java jars replaced by the jars in {@code openAiJars} (another version). */
    static String classPathWithOpenAi(Path openAiJars) throws IOException {
        List<String> entries = new ArrayList<>();
        for (String entry : classPath().split(File.pathSeparator)) {
            if (!Path.of(entry).getFileName().toString().startsWith("openai-java")) {
                entries.add(entry);
            }
        }
        try (Stream<Path> jars = Files.list(openAiJars)) {
            jars.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(p -> entries.add(p.toString()));
        }
        return String.join(File.pathSeparator, entries);
    }

    /** The test class path without the agent's own build output (the agent comes only through -javaagent). */
    static String classPath() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !e.contains("tokenguard-agent") && !e.replace('\\', '/').contains("agent/target"))
                .collect(Collectors.joining(File.pathSeparator));
    }
}
