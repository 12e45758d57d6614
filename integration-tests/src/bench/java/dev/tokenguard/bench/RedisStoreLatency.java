package dev.tokenguard.bench;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.CallScope;
import dev.tokenguard.budget.ChargeResult;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.Estimate;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.Reservation;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.SessionListener;
import dev.tokenguard.budget.store.SharedBudgets;
import dev.tokenguard.config.StoreAddress;
import dev.tokenguard.config.StoreFailureMode;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * What a Redis store adds to each governed call: the budget work of one call (reserve before, charge after) on one
 * {@code global} budget, with the in-memory engine alone and with the engine plus a Redis store (a real
 * {@code redis-server} on loopback, started here). The difference of the two is the store's cost per call: two round
 * trips, one admission script and one settlement script. Run in a JVM of its own with the agent jar on the class
 * path. Arguments: {@code <calls> <dir>}; prints {@code RESULT <key> <microseconds>} for {@code memory_p50_us},
 * {@code memory_p99_us}, {@code redis_p50_us} and {@code redis_p99_us}.
 */
public final class RedisStoreLatency {
    private RedisStoreLatency() {
    }

    public static void main(String[] args) throws Exception {
        int calls = Integer.parseInt(args[0]);
        Path dir = Files.createDirectories(Path.of(args[1]));
        List<BudgetSpec> budgets = List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.GLOBAL, Long.MAX_VALUE / 4,
                null, null, null, null, new double[]{0.75, 0.90, 0.95}, EnforcementMode.ENFORCE));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Process redis = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("redis.log").toFile()).start();
        try {
            awaitPort(port);
            BudgetEngine memory = new BudgetEngine(budgets, Clock.systemUTC(), MdcSource.NONE, SessionListener.NONE);
            BudgetEngine engine = new BudgetEngine(budgets, Clock.systemUTC(), MdcSource.NONE, SessionListener.NONE);
            SharedBudgets shared = SharedBudgets.redis(new StoreAddress("127.0.0.1", port, 0, false, null, null),
                    "bench", Duration.ofMillis(200), StoreFailureMode.LOCAL, Duration.ofMinutes(15), Clock.systemUTC(),
                    System.out::println);
            long[] mem = new long[calls];
            long[] red = new long[calls];
            for (int round = 0; round < 2; round++) { // the first round warms up
                for (int i = 0; i < calls; i++) {
                    mem[i] = call(memory, null, budgets);
                    red[i] = call(engine, shared, budgets);
                }
            }
            shared.close();
            System.out.printf(Locale.ROOT, "RESULT memory_p50_us %.1f%nRESULT memory_p99_us %.1f%n"
                    + "RESULT redis_p50_us %.1f%nRESULT redis_p99_us %.1f%n", pct(mem, 50), pct(mem, 99), pct(red, 50),
                    pct(red, 99));
        } finally {
            redis.destroy();
            redis.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** One call's budget work, in nanoseconds. */
    private static long call(BudgetEngine engine, SharedBudgets shared, List<BudgetSpec> budgets) {
        Estimate estimate = new Estimate(40, 1024, 0);
        long start = System.nanoTime();
        CallScope scope = engine.enter();
        Reservation r = engine.reserve(scope, estimate, 0).reservation();
        SharedBudgets.Ticket t = shared == null ? null : shared.admit(scope, budgets, estimate, 0);
        ChargeResult result = engine.charge(scope, r, 40, 60, null);
        if (shared != null) {
            result = shared.settle(t, scope, budgets, result, 40, 60, null);
        }
        long took = System.nanoTime() - start;
        if (result.states().isEmpty()) {
            throw new IllegalStateException("no state");
        }
        return took;
    }

    private static double pct(long[] nanos, int p) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)] / 1000.0;
    }

    private static void awaitPort(int port) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                Thread.onSpinWait();
            }
        }
        throw new IOException("redis-server did not start on port " + port + " (is it installed?)");
    }

    /** The rows of the benchmark's table (metric, none, tokenguard, otel, target, met?). */
    static List<String> rows(java.util.Map<String, Double> r) {
        List<String> rows = new ArrayList<>();
        double added50 = r.get("redis_p50_us") - r.get("memory_p50_us");
        rows.add(String.format(Locale.ROOT, "| budget work per call, memory store: p50 / p99 (us) |  | %.1f / %.1f |  |"
                + "  |  |", r.get("memory_p50_us"), r.get("memory_p99_us")));
        rows.add(String.format(Locale.ROOT, "| budget work per call, Redis store on loopback: p50 / p99 (us) |  |"
                + " %.1f / %.1f |  | added p50 <= 1 ms | %s |", r.get("redis_p50_us"), r.get("redis_p99_us"),
                added50 <= 1000 ? "yes" : "**no**"));
        return rows;
    }
}
