package dev.tokenguard.bench;

import dev.tokenguard.bench.sdk.FakeSdkCall;
import dev.tokenguard.core.CallerFrame;
import dev.tokenguard.core.CallerFrames;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * JMH benchmark of the call-site lookup each governed call makes on its calling thread: a stack walk past
 * {@value #SDK_FRAMES} SDK frames (about what openai-java over OkHttp, plus the agent's own, puts between an
 * application's call and the agent), and the same with the {@code class.method:line} text built, as the session
 * log does.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
public class CallSiteBench {
    static final int SDK_FRAMES = 24;

    private final CallerFrames frames = new CallerFrames(List.of("dev.tokenguard.bench.sdk."));

    /** Finds the call site (this method's frame); the text is not built. */
    @Benchmark
    public CallerFrame findCallSite() {
        return FakeSdkCall.call(frames, SDK_FRAMES);
    }

    /** Finds the call site and builds its text. */
    @Benchmark
    public String findAndFormatCallSite() {
        return FakeSdkCall.call(frames, SDK_FRAMES).toString();
    }

    /**
     * The same lookup with its text, timed by the calling thread's CPU time rather than the wall clock, so
     * that other processes on a busy machine inflate it less: CPU nanoseconds per call over {@code calls}
     * calls, after as many warm-up calls.
     */
    public static double cpuNanosPerCall(int calls) {
        CallSiteBench bench = new CallSiteBench();
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        int length = 0;
        for (int i = 0; i < calls; i++) {
            length += bench.findAndFormatCallSite().length();
        }
        long start = threads.getCurrentThreadCpuTime();
        for (int i = 0; i < calls; i++) {
            length += bench.findAndFormatCallSite().length();
        }
        long cpu = threads.getCurrentThreadCpuTime() - start;
        if (length <= 0) {
            throw new IllegalStateException("no call site found");
        }
        return (double) cpu / calls;
    }

    /** Prints {@link #cpuNanosPerCall} for 200,000 calls. */
    public static void main(String[] args) {
        System.out.printf("call site, CPU ns per call: %.0f%n", cpuNanosPerCall(200_000));
    }
}
