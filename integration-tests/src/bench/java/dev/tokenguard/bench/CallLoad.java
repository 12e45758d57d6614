package dev.tokenguard.bench;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.ChatModel;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * The measured application of the per-call benchmark, run in a JVM of its own (with no agent,
 * TokenGuard or the OpenTelemetry agent): sync openai-java chat calls, one after another on the
 * main thread, against the zero-delay fake server of the benchmark JVM.
 *
 * <p>Arguments: {@code <baseUrl> <warm-up calls> <measured calls> <total calls for the heap figure>}.
 * Prints {@code RESULT <key> <value>} lines: {@code calls_per_s}, {@code p50_us}, {@code p99_us},
 * {@code alloc_bytes_per_call} (all live threads, from {@code ThreadMXBean}), {@code alloc_bytes_per_call_thread}
 * (the calling thread alone), {@code cpu_ns_per_call_thread} (CPU time of the calling thread, which runs the sync
 * call through OkHttp), {@code cpu_ns_per_call_process} (CPU time of the whole JVM: GC and JIT threads too),
 * {@code heap_after_bytes}
 * (used heap after all calls and a full GC) and {@code heap_growth_bytes} (that minus the used heap
 * after warm-up and a full GC).
 */
public final class CallLoad {
    private CallLoad() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            throw new IllegalArgumentException("expected <baseUrl> <warm-up> <measured> <total>, got "
                    + Arrays.toString(args));
        }
        String baseUrl = args[0];
        int warmUp = positive("warm-up", args[1]);
        int measured = positive("measured", args[2]);
        int total = positive("total", args[3]);
        if (total < warmUp + measured) {
            throw new IllegalArgumentException("total calls " + total + " must be at least warm-up + measured = "
                    + (warmUp + measured));
        }
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        threads.setThreadAllocatedMemoryEnabled(true);
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(ChatModel.GPT_4O_MINI)
                .addSystemMessage("You summarise support tickets in one sentence.")
                .addUserMessage("Ticket 42: the printer on floor 3 jams every morning.")
                .build();
        long sink = 0;
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(baseUrl).apiKey("sk-bench").maxRetries(0).build();
        try {
            for (int i = 0; i < warmUp; i++) {
                sink += call(client, params);
            }
            long heapWarm = usedHeapAfterGc();
            long[] nanos = new long[measured];
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long self = Thread.currentThread().getId();
            long allocBefore = allocated(threads);
            long selfAllocBefore = threads.getThreadAllocatedBytes(self);
            long cpuBefore = threads.getCurrentThreadCpuTime();
            long processCpuBefore = os.getProcessCpuTime();
            long start = System.nanoTime();
            for (int i = 0; i < measured; i++) {
                long t0 = System.nanoTime();
                sink += call(client, params);
                nanos[i] = System.nanoTime() - t0;
            }
            long elapsed = System.nanoTime() - start;
            long processCpuAfter = os.getProcessCpuTime();
            long cpuAfter = threads.getCurrentThreadCpuTime();
            long selfAllocAfter = threads.getThreadAllocatedBytes(self);
            long allocAfter = allocated(threads);
            for (int i = warmUp + measured; i < total; i++) {
                sink += call(client, params);
            }
            long heapAfter = usedHeapAfterGc();
            Arrays.sort(nanos);
            System.out.println("RESULT calls_per_s " + (measured * 1e9 / elapsed));
            System.out.println("RESULT p50_us " + nanos[(int) (measured * 0.50)] / 1e3);
            System.out.println("RESULT p99_us " + nanos[Math.min(measured - 1, (int) (measured * 0.99))] / 1e3);
            System.out.println("RESULT alloc_bytes_per_call " + (double) (allocAfter - allocBefore) / measured);
            System.out.println("RESULT alloc_bytes_per_call_thread " + (double) (selfAllocAfter - selfAllocBefore) / measured);
            System.out.println("RESULT cpu_ns_per_call_thread " + (double) (cpuAfter - cpuBefore) / measured);
            System.out.println("RESULT cpu_ns_per_call_process " + (double) (processCpuAfter - processCpuBefore) / measured);
            System.out.println("RESULT heap_after_bytes " + heapAfter);
            System.out.println("RESULT heap_growth_bytes " + (heapAfter - heapWarm));
            System.out.println("RESULT tokens " + sink);
        } finally {
            client.close();
        }
    }

    private static long call(OpenAIClient client, ChatCompletionCreateParams params) {
        ChatCompletion completion = client.chat().completions().create(params);
        return completion.usage().map(u -> u.totalTokens()).orElse(0L);
    }

    /** Bytes allocated so far by every live thread (threads that ended in between are not counted). */
    private static long allocated(com.sun.management.ThreadMXBean threads) {
        long sum = 0;
        for (long a : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            if (a > 0) {
                sum += a;
            }
        }
        return sum;
    }

    static long usedHeapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static int positive(String what, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(what + " must be a positive whole number of calls, got '" + value + "'");
    }
}
