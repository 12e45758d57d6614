package dev.tokenguard.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A forked app started with {@code wait-for-attach}: it prints {@code READY <pid>} and waits on stdin for
 * {@code GO}, so a test can attach to it, look at it and change it while it is paused. Its stdout lines are kept
 * (without the {@code READY} line); its stderr goes to a file. Closing it kills the process if it is still running.
 */
final class PausedJvm implements AutoCloseable {
    final Process process;
    final Path stderr;
    final List<String> stdout = new ArrayList<>();
    final String readyLine;
    private final BufferedReader out;

    private PausedJvm(Process process, Path stderr, BufferedReader out, String readyLine) {
        this.process = process;
        this.stderr = stderr;
        this.out = out;
        this.readyLine = readyLine;
    }

    /** Starts {@code command} in {@code work} without the caller's TokenGuard/OTel/OpenAI environment; returns once ready. */
    static PausedJvm start(Path work, List<String> command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(work.toFile());
        builder.environment().keySet().removeIf(k -> k.startsWith("TOKENGUARD_") || k.startsWith("OTEL_")
                || k.startsWith("OPENAI_"));
        Path err = Files.createTempFile(work, "stderr", ".txt");
        builder.redirectError(err.toFile());
        Process target = builder.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(target.getInputStream(), StandardCharsets.UTF_8));
        List<String> before = new ArrayList<>();
        String line;
        while ((line = out.readLine()) != null && !line.startsWith("READY ")) {
            before.add(line);
        }
        if (line == null) {
            target.waitFor(30, TimeUnit.SECONDS);
            target.destroyForcibly();
            throw new IllegalStateException("the app ended before it was ready: " + before + "\n"
                    + Files.readString(err));
        }
        PausedJvm jvm = new PausedJvm(target, err, out, line);
        jvm.stdout.addAll(before);
        return jvm;
    }

    String pid() {
        return String.valueOf(process.pid());
    }

    /** Tells the app to go on, keeps the rest of its stdout; true when it ended within two minutes. */
    boolean go() throws IOException, InterruptedException {
        process.getOutputStream().write("GO\n".getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().flush();
        String line;
        while ((line = out.readLine()) != null) {
            stdout.add(line);
        }
        return process.waitFor(120, TimeUnit.SECONDS);
    }

    List<String> stderrLines() throws IOException {
        return Files.readAllLines(stderr, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
