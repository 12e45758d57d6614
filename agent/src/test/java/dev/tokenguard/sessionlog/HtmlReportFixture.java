package dev.tokenguard.sessionlog;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Three hand-written session-log files for the HTML report's tests, and the figures worked out by hand
 * from them (the oracle), on 2026-11-30 between 09:00 and 15:00 UTC:
 *
 * <pre>
 * alice.jsonl  scope mdc:user=alice
 *   09:05 openai gpt-4o             1000 + 200 = 1200  $0.0045  com.acme.tickets.Summarizer.summarize:88
 *   10:20 openai gpt-4o             2000 + 400 = 2400  $0.0090  com.acme.tickets.Summarizer.summarize:88
 *   10:21 budget_warning (counts for the 10:20 call)
 *   12:40 anthropic claude-sonnet-4 3000 + 300 = 3300  $0.0135  com.acme.tickets.Triage.classify:42
 *   12:41 budget_exceeded openai gpt-4o
 * hostile.jsonl  scope mdc:user=HOSTILE_USER
 *   11:00 openai HOSTILE_MODEL       100 +  50 =  150  unpriced  no call_site
 * worker.jsonl  scope thread:worker-1#21
 *   14:30 ollama llama3.1            400 + 100 =  500  unpriced  HOSTILE_CALL_SITE
 *   one truncated line
 * </pre>
 */
final class HtmlReportFixture {

    static final String HOSTILE_USER = "<script>alert('x')</script><img src=x onerror=alert(1)>";
    static final String HOSTILE_MODEL = "<svg onload=alert(2)>";
    static final String HOSTILE_CALL_SITE = "com.acme.Batch.run:7\" onmouseover=\"alert(3)";

    static final long TOTAL_TOKENS = 1200 + 2400 + 3300 + 150 + 500;
    static final double TOTAL_USD = 0.0045 + 0.0090 + 0.0135;
    /** Hours 09 to 14: six slots, five of them with calls (13:00 has none). */
    static final long[] TOKENS_PER_HOUR_WITH_CALLS = {1200, 2400, 150, 3300, 500};
    static final int PRICED_HOURS = 3;

    private HtmlReportFixture() {
    }

    static void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        String day = "2026-11-30T";
        write(dir.resolve("alice.jsonl"),
                start(day + "09:00:00.000Z", "alice", "mdc:user=alice"),
                call(day + "09:05:00.000Z", "alice", 2, "openai", "gpt-4o", 1000, 200, "0.0045",
                        "\"com.acme.tickets.Summarizer.summarize:88\""),
                call(day + "10:20:00.000Z", "alice", 3, "openai", "gpt-4o", 2000, 400, "0.009",
                        "\"com.acme.tickets.Summarizer.summarize:88\""),
                "{\"ts\":\"" + day + "10:21:00.000Z\",\"session\":\"alice\",\"seq\":4,\"event\":\"budget_warning\","
                        + "\"budget\":\"default\",\"threshold\":0.75,\"used\":3600,\"limit\":4800}",
                call(day + "12:40:00.000Z", "alice", 5, "anthropic", "claude-sonnet-4", 3000, 300, "0.0135",
                        "\"com.acme.tickets.Triage.classify:42\""),
                "{\"ts\":\"" + day + "12:41:00.000Z\",\"session\":\"alice\",\"seq\":6,\"event\":\"budget_exceeded\","
                        + "\"budget\":\"default\",\"used\":6900,\"limit\":4800,\"provider\":\"openai\",\"request_model\":\"gpt-4o\"}");
        write(dir.resolve("hostile.jsonl"),
                start(day + "11:00:00.000Z", "mdc-user-hostile", "mdc:user=" + json(HOSTILE_USER)),
                call(day + "11:00:00.500Z", "mdc-user-hostile", 2, "openai", json(HOSTILE_MODEL), 100, 50, "null", null));
        write(dir.resolve("worker.jsonl"),
                start(day + "14:29:00.000Z", "worker-1-21", "thread:worker-1#21"),
                call(day + "14:30:00.000Z", "worker-1-21", 2, "ollama", "llama3.1", 400, 100, "null",
                        "\"" + json(HOSTILE_CALL_SITE) + "\""),
                "{\"ts\":\"" + day + "14:31:00.000Z\",\"session\":\"worker-1-21\",\"seq\":3,\"ev");
    }

    private static String start(String ts, String session, String scope) {
        return "{\"ts\":\"" + ts + "\",\"session\":\"" + session + "\",\"seq\":1,\"event\":\"session_start\",\"scope\":\""
                + scope + "\",\"thread\":\"main\",\"pid\":4242,\"agent_version\":\"test\"}";
    }

    private static String call(String ts, String session, int seq, String provider, String model, long in, long out,
                               String cost, String callSite) {
        return "{\"ts\":\"" + ts + "\",\"session\":\"" + session + "\",\"seq\":" + seq + ",\"event\":\"llm_call\","
                + "\"provider\":\"" + provider + "\",\"operation\":\"chat\",\"request_model\":\"" + model
                + "\",\"response_model\":\"" + model + "\",\"input_tokens\":" + in + ",\"output_tokens\":" + out
                + ",\"total_tokens\":" + (in + out) + ",\"cache_read_tokens\":null,\"cache_write_tokens\":null,"
                + "\"reasoning_tokens\":null,\"duration_ms\":120,\"streaming\":false,\"status\":\"ok\",\"error_type\":null,"
                + "\"cost_usd\":" + cost + ",\"usage_source\":\"provider\",\"budget\":[]"
                + (callSite == null ? "" : ",\"call_site\":" + callSite) + "}";
    }

    /** The text as the inside of a JSON string. */
    private static String json(String text) {
        return text.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    private static void write(Path file, String... lines) throws IOException {
        Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    }
}
