package dev.tokenguard.it;

import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Starts a scenario in a new JVM with the built agent jar on a real {@code -javaagent} flag, the
 * test class path (real SDKs, the app's own libraries), and a working directory of its own.
 */
final class ForkedJvm {
    /**
     * The start-up line of the raw-HTTP fallback on OkHttp, which the SDKs (openai-java, anthropic-java) run on:
     * it follows the SDK's own line once the first request is made.
     */
    static final String GOVERNING_OKHTTP = "[tokenguard] TokenGuard: governing okhttp";
    static final Path AGENT_JAR = Path.of(System.getProperty("tokenguard.agent.jar",
            "../agent/target/tokenguard-agent.jar")).toAbsolutePath().normalize();
    /**
     * The {@code java} executable of the forked JVMs: {@code tokenguard.it.java} when set (the build's second
     * pass runs them on another JDK), else the one running the tests.
     */
    static final String JAVA = javaExecutable();

    private static String javaExecutable() {
        String chosen = System.getProperty("tokenguard.it.java", "");
        return chosen.isBlank() ? Path.of(System.getProperty("java.home"), "bin", "java").toString() : chosen;
    }

    /**
     * The feature release of the forked JVMs' Java (17, 21, 25...), read from the {@code release} file of the JDK
     * that {@link #JAVA} belongs to.
     */
    static int javaFeature() throws IOException {
        Path home = Path.of(JAVA).toAbsolutePath().getParent().getParent();
        for (String line : Files.readAllLines(home.resolve("release"), StandardCharsets.UTF_8)) {
            if (line.startsWith("JAVA_VERSION=")) {
                String version = line.substring("JAVA_VERSION=".length()).replace("\"", "");
                return Integer.parseInt(version.split("[.+-]")[0]);
            }
        }
        throw new IllegalStateException("no JAVA_VERSION in " + home.resolve("release"));
    }

    /** What a forked JVM printed and how it ended. */
    record Result(int exitCode, List<String> stdout, List<String> stderr) {
        /** stdout lines that start with {@code prefix}. */
        List<String> lines(String prefix) {
            return stdout.stream().filter(l -> l.startsWith(prefix)).collect(Collectors.toList());
        }

        /** Lines the agent printed (its own prefix), on either stream. */
        List<String> agentLines() {
            List<String> all = new ArrayList<>();
            for (String l : stderr) {
                if (l.startsWith("[tokenguard]") || l.startsWith("TokenGuard")) {
                    all.add(l);
                }
            }
            for (String l : stdout) {
                if (l.startsWith("[tokenguard]") || l.startsWith("TokenGuard")) {
                    all.add("(stdout) " + l);
                }
            }
            return all;
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + String.join("\n", stdout) + "\n--- stderr\n"
                    + String.join("\n", stderr);
        }
    }

    private ForkedJvm() {
    }

    /**
     * @param workDir    the JVM's working directory (the session log lands in {@code workDir/tokenguard-sessions})
     * @param agentArgs  arguments after {@code -javaagent:...=}, or null to run without the agent
     * @param jvmOptions more JVM options ({@code -D...})
     * @param env        more environment variables
     * @param mainClass  the scenario's main class
     * @param args       its arguments
     */
    static Result run(Path workDir, String agentArgs, List<String> jvmOptions, Map<String, String> env,
                      String mainClass, String... args) throws IOException, InterruptedException {
        return runWithClassPath(workDir, agentArgs, jvmOptions, env, applicationClassPath(), mainClass, args);
    }

    /** As {@link #run(Path, String, List, Map, String, String...)}, with the given class path. */
    static Result runWithClassPath(Path workDir, String agentArgs, List<String> jvmOptions, Map<String, String> env,
                                   String classPath, String mainClass, String... args) throws IOException, InterruptedException {
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
        command.addAll(Arrays.asList(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("TOKENGUARD_") || k.startsWith("OTEL_")
                || k.equals("OPENAI_API_KEY") || k.startsWith("ANTHROPIC_") || k.startsWith("OPENAI_"));
        builder.environment().putAll(env);
        Path out = Files.createTempFile(workDir, "stdout", ".txt");
        Path err = Files.createTempFile(workDir, "stderr", ".txt");
        builder.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process process = builder.start();
        if (!process.waitFor(180, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("scenario " + mainClass + " did not end within 180 s");
        }
        List<String> stdout = Files.readAllLines(out, StandardCharsets.UTF_8);
        List<String> stderr = Files.readAllLines(err, StandardCharsets.UTF_8);
        Files.delete(out);
        Files.delete(err);
        return new Result(process.exitValue(), stdout, stderr);
    }

    /** The application class path with openai-java replaced by the jars in {@code openAiJars}. */
    static String classPathWithOpenAi(Path openAiJars) throws IOException {
        return classPathWith("openai-java", openAiJars);
    }

    /** The application class path with the jars named {@code prefix*} replaced by the jars in {@code jarDir}. */
    static String classPathWith(String prefix, Path jarDir) throws IOException {
        List<String> entries = new ArrayList<>();
        for (String entry : applicationClassPath().split(File.pathSeparator)) {
            if (!Path.of(entry).getFileName().toString().startsWith(prefix)) {
                entries.add(entry);
            }
        }
        try (var jars = Files.list(jarDir)) {
            jars.filter(p -> p.toString().endsWith(".jar")).forEach(p -> entries.add(p.toString()));
        }
        return String.join(File.pathSeparator, entries);
    }

    /** The one jar on the application class path whose file name starts with {@code prefix}. */
    static Path applicationJar(String prefix) {
        List<Path> jars = Arrays.stream(applicationClassPath().split(File.pathSeparator)).map(Path::of)
                .filter(p -> p.getFileName().toString().startsWith(prefix) && p.toString().endsWith(".jar")).toList();
        if (jars.size() != 1) {
            throw new IllegalStateException("expected one " + prefix + "*.jar on the class path, found " + jars);
        }
        return jars.get(0);
    }

    /** The version of the Jackson relocated into the agent jar, read from its own PackageVersion class. */
    static String agentJacksonVersion() throws Exception {
        try (URLClassLoader jar = new URLClassLoader(new URL[] {AGENT_JAR.toUri().toURL()}, null)) {
            Class<?> version = Class.forName("dev.tokenguard.shaded.com.fasterxml.jackson.databind.cfg.PackageVersion",
                    true, jar);
            return String.valueOf(version.getField("VERSION").get(null));
        }
    }

    /** The test class path without the agent's own build output (the agent comes only through -javaagent). */
    static String applicationClassPath() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !entry.contains("tokenguard-agent") && !entry.replace('\\', '/').contains("agent/target"))
                .collect(Collectors.joining(File.pathSeparator));
    }
    /**
     * Runs an executable jar as a service ships it, {@code java -javaagent:... -jar app.jar args} (a Spring Boot
     * jar: nested jars under the Boot launcher's class loader), with the environment cleaned as in {@link #run}.
     */
    static Result runJar(Path workDir, String agentArgs, List<String> jvmOptions, Path jar, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(JAVA);
        if (agentArgs != null) {
            command.add("-javaagent:" + AGENT_JAR + (agentArgs.isEmpty() ? "" : "=" + agentArgs));
        }
        command.add("-Xshare:auto");
        command.add("-XX:TieredStopAtLevel=1");
        command.addAll(jvmOptions);
        command.add("-jar");
        command.add(jar.toString());
        command.addAll(Arrays.asList(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("TOKENGUARD_") || k.startsWith("OTEL_")
                || k.startsWith("SPRING_") || k.startsWith("ANTHROPIC_") || k.startsWith("OPENAI_"));
        Path out = Files.createTempFile(workDir, "stdout", ".txt");
        Path err = Files.createTempFile(workDir, "stderr", ".txt");
        builder.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process process = builder.start();
        if (!process.waitFor(180, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(jar.getFileName() + " did not end within 180 s");
        }
        List<String> stdout = Files.readAllLines(out, StandardCharsets.UTF_8);
        List<String> stderr = Files.readAllLines(err, StandardCharsets.UTF_8);
        Files.delete(out);
        Files.delete(err);
        return new Result(process.exitValue(), stdout, stderr);
    }

    /**
     * As {@link #run(Path, String, List, Map, String, String...)}, in a JVM whose files may not grow past
     * {@code blocks} KiB ({@code ulimit -f}, set by bash before it becomes the JVM): a full disk without root.
     * The JVM writes no performance-data file ({@code -XX:-UsePerfData}), which would not fit.
     */
    static Result runUnderFileSizeLimit(Path workDir, String agentArgs, long blocks, String mainClass, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", "-c", "ulimit -f " + blocks + " && exec \"$@\"", "bash",
                JAVA));
        if (agentArgs != null) {
            command.add("-javaagent:" + AGENT_JAR + (agentArgs.isEmpty() ? "" : "=" + agentArgs));
        }
        command.addAll(List.of("-Xshare:auto", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-cp",
                applicationClassPath(), mainClass));
        command.addAll(Arrays.asList(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("TOKENGUARD_") || k.startsWith("OTEL_")
                || k.equals("OPENAI_API_KEY") || k.startsWith("ANTHROPIC_") || k.startsWith("OPENAI_"));
        Path out = Files.createTempFile(workDir, "stdout", ".txt");
        Path err = Files.createTempFile(workDir, "stderr", ".txt");
        builder.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process process = builder.start();
        if (!process.waitFor(180, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("scenario " + mainClass + " did not end within 180 s");
        }
        List<String> stdout = Files.readAllLines(out, StandardCharsets.UTF_8);
        List<String> stderr = Files.readAllLines(err, StandardCharsets.UTF_8);
        Files.delete(out);
        Files.delete(err);
        return new Result(process.exitValue(), stdout, stderr);
    }
}
