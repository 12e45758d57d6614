package dev.tokenguard.sessionlog;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenguard.config.ClosestKey;

import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code replay} command: one session as it happened, read from the session log. Each call with the messages it
 * sent and the answer it got (when the session was logged with {@code tokenguard.session-log.capture-content}), its
 * tokens, cost and budget state, and the warnings, refusals and live changes at their place between the calls. A
 * session logged without content is printed as its call sequence, with a line saying so. Lines that are not whole
 * JSON objects (a crash mid-write) are skipped and counted.
 *
 * <p>With {@code --json}, one JSON object per line and entry, with the keys of {@link #JSON_KEYS} (an entry's own
 * session-log fields, except that a call's captured {@code prompt} and {@code completion} become {@code messages}
 * and {@code answer}), then one {@code replay_summary} object.
 *
 * <p>Nothing new reaches the screen: the session log holds no header or key, and captured content was redacted when
 * it was written.
 */
public final class SessionReplay {
    /**
     * The keys of the {@code --json} objects, by {@code event}: every entry also has {@code ts}, {@code session},
     * {@code seq} and {@code event}; an event this version does not know is printed with the fields it has.
     */
    public static final Map<String, List<String>> JSON_KEYS = jsonKeys();

    /** Writes fractions as the session log does, in plain notation ({@code 0.00004485}, not {@code 4.485E-5}). */
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN);
    private static final int MAX_NEARBY_IDS = 5;
    private static final String INDENT = "    ";

    private SessionReplay() {
    }

    private static Map<String, List<String>> jsonKeys() {
        Map<String, List<String>> keys = new LinkedHashMap<>();
        keys.put("session_start", List.of("scope", "thread", "pid", "agent_version", "service"));
        keys.put("llm_call", List.of("provider", "operation", "request_model", "response_model", "call_site",
                "messages", "answer", "content_captured", "input_tokens", "output_tokens", "total_tokens",
                "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd", "usage_source", "duration_ms",
                "streaming", "status", "error_type", "budget", "notice_injected", "trace_id", "span_id"));
        keys.put("budget_warning", List.of("budget", "threshold", "used", "limit", "unit"));
        keys.put("budget_exceeded", List.of("budget", "used", "limit", "unit", "provider", "request_model",
                "call_site"));
        keys.put("budget_changed", List.of("budget", "key", "old", "new", "by"));
        keys.put("session_end", List.of("reason", "input_tokens", "output_tokens", "total_tokens", "cost_usd"));
        keys.put("replay_summary", List.of("sessions", "entries", "calls", "content_captured_calls",
                "unreadable_lines_skipped", "files"));
        return Map.copyOf(keys);
    }

    /**
     * Prints the session {@code target} names: a session-log file (every session in it, one after the other), or a
     * session id looked up in {@code dir} (its own file in the {@code session} layout, its lines of the daily files
     * in the {@code daily} layout).
     *
     * @return 0 when printed, 1 when printed but some file could not be read, 2 when nothing matches {@code target}
     */
    public static int run(String target, Path dir, boolean json, PrintStream out, PrintStream err) {
        Found found = find(target, dir);
        for (String e : found.fileErrors) {
            err.println("tokenguard replay: " + e);
        }
        if (found.sessions.isEmpty()) {
            err.println(found.problem);
            return 2;
        }
        Summary summary = new Summary();
        for (Map.Entry<String, List<JsonNode>> s : found.sessions.entrySet()) {
            List<JsonNode> entries = inOrder(s.getValue());
            if (json) {
                printJson(entries, summary, out);
            } else {
                printText(s.getKey(), found.files, entries, summary, out);
            }
        }
        if (json) {
            ObjectNode end = JsonNodeFactory.instance.objectNode();
            end.put("event", "replay_summary");
            ArrayNode sessions = end.putArray("sessions");
            found.sessions.keySet().forEach(sessions::add);
            end.put("entries", summary.entries);
            end.put("calls", summary.calls);
            end.put("content_captured_calls", summary.captured);
            end.put("unreadable_lines_skipped", found.unreadable);
            ArrayNode files = end.putArray("files");
            found.files.forEach(f -> files.add(f.toString()));
            out.println(json(end));
        } else {
            out.println();
            out.println(summary.entries + " entries, " + summary.calls + " calls, read from "
                    + (found.files.size() == 1 ? found.files.get(0) : found.files.size() + " files of " + dir)
                    + "; unreadable lines skipped: " + found.unreadable
                    + (found.unreadable > 0 ? " (a line cut short by a crash, or not JSON)" : ""));
        }
        return found.fileErrors.isEmpty() ? 0 : 1;
    }

    /** What {@code target} matched: the lines of each session, by session id, in the order first seen. */
    private static final class Found {
        final Map<String, List<JsonNode>> sessions = new LinkedHashMap<>();
        final List<Path> files = new ArrayList<>();
        final List<String> fileErrors = new ArrayList<>();
        int unreadable;
        String problem;

        void add(JsonNode event, String onlySession) {
            String session = text(event, "session");
            if (onlySession != null && !onlySession.equals(session)) {
                return;
            }
            sessions.computeIfAbsent(session == null ? "(no session id)" : session, k -> new ArrayList<>()).add(event);
        }
    }

    private static Found find(String target, Path dir) {
        Found found = new Found();
        Path file = asFile(target, dir);
        if (file != null) {
            found.files.add(file);
            SessionLogReader.Result r = SessionLogReader.read(file);
            found.unreadable = r.unreadableLines();
            found.fileErrors.addAll(r.fileErrors());
            r.events().forEach(e -> found.add(e, null));
            if (found.sessions.isEmpty() && found.fileErrors.isEmpty()) {
                found.problem = "tokenguard replay: " + file + " holds no session-log line (" + r.unreadableLines()
                        + " unreadable); expected a JSONL file the agent wrote";
            }
            return found;
        }
        if (dir == null || !Files.isDirectory(dir)) {
            found.problem = "tokenguard replay: '" + target + "' is not a file, and the session-log directory " + dir
                    + " to look the session id up in does not exist; expected a session-log file, or a session id"
                    + " with --dir DIR (default: tokenguard.session-log.dir, tokenguard-sessions)";
            return found;
        }
        Path own = dir.resolve(SessionLogWriter.fileNameFor(target));
        if (Files.isRegularFile(own)) {
            found.files.add(own);
            SessionLogReader.Result r = SessionLogReader.read(own);
            found.unreadable = r.unreadableLines();
            found.fileErrors.addAll(r.fileErrors());
            r.events().forEach(e -> found.add(e, target));
            if (!found.sessions.isEmpty()) {
                return found;
            }
            found.files.clear();
        }
        // the daily layout: the session's lines are spread over the day files of its process
        List<Path> files;
        try {
            files = SessionLogReader.files(dir);
        } catch (java.io.IOException e) {
            found.problem = "tokenguard replay: cannot list session-log directory " + dir + ": " + e
                    + "; expected a readable directory";
            return found;
        }
        Set<String> ids = new TreeSet<>();
        for (Path f : files) {
            int before = found.sessions.isEmpty() ? 0 : found.sessions.values().iterator().next().size();
            SessionLogReader.Scan scan = SessionLogReader.scanFile(f, e -> {
                String session = text(e, "session");
                if (session != null) {
                    ids.add(session);
                }
                found.add(e, target);
            });
            found.fileErrors.addAll(scan.fileErrors());
            int after = found.sessions.isEmpty() ? 0 : found.sessions.values().iterator().next().size();
            if (after > before) {
                found.files.add(f); // the lines cut short in a file of the session are counted, others' are not
                found.unreadable += scan.unreadableLines();
            }
        }
        if (!found.sessions.isEmpty()) {
            return found;
        }
        found.problem = "tokenguard replay: no session '" + target + "' in " + dir + " (" + ids.size()
                + " session(s) there" + (ids.isEmpty() ? "" : "; nearest: " + String.join(", ", nearest(target, ids)))
                + "); `report " + dir + "` lists every session, or give the path of a session-log file";
        return found;
    }

    /** {@code target} as an existing file (as given, or in {@code dir}), or null. */
    private static Path asFile(String target, Path dir) {
        try {
            Path p = Path.of(target);
            if (Files.isRegularFile(p)) {
                return p;
            }
            if (dir != null && !p.isAbsolute()) {
                // a file name of the directory; the own file of an id is read as the id's, below
                for (Path candidate : List.of(dir.resolve(target), dir.resolve(target + ".jsonl"))) {
                    if (Files.isRegularFile(candidate) && !candidate.equals(dir.resolve(
                            SessionLogWriter.fileNameFor(target)))) {
                        return candidate;
                    }
                }
            }
            return null;
        } catch (InvalidPathException e) {
            return null;
        }
    }

    /** The ids closest to {@code typed}: those sharing the longest prefix, then by edit distance. */
    static List<String> nearest(String typed, Set<String> ids) {
        List<String> sorted = new ArrayList<>(ids);
        sorted.sort(Comparator.comparingInt((String id) -> -commonPrefix(typed, id))
                .thenComparingInt(id -> ClosestKey.distance(typed, id)).thenComparing(Comparator.naturalOrder()));
        return sorted.subList(0, Math.min(MAX_NEARBY_IDS, sorted.size()));
    }

    private static int commonPrefix(String a, String b) {
        int n = 0;
        while (n < a.length() && n < b.length() && a.charAt(n) == b.charAt(n)) {
            n++;
        }
        return n;
    }

    /** The lines by {@code seq} (the writer's order), lines without one where they were read. */
    private static List<JsonNode> inOrder(List<JsonNode> lines) {
        List<JsonNode> sorted = new ArrayList<>(lines);
        if (lines.stream().allMatch(l -> l.path("seq").canConvertToLong())) {
            sorted.sort(Comparator.comparingLong(l -> l.path("seq").asLong()));
        }
        return sorted;
    }

    private static final class Summary {
        int entries;
        int calls;
        int captured;
    }

    // ---- --json -------------------------------------------------------------------------------------------------

    private static void printJson(List<JsonNode> entries, Summary summary, PrintStream out) {
        for (JsonNode e : entries) {
            summary.entries++;
            out.println(json(jsonEntry(e, summary)));
        }
    }

    private static String json(JsonNode node) {
        try {
            return JSON.writeValueAsString(plainFractions(node));
        } catch (JsonProcessingException e) {
            return node.toString();
        }
    }

    /** {@code node} with every floating-point number as the decimal it was written as. */
    private static JsonNode plainFractions(JsonNode node) {
        if (node.isDouble() || node.isFloat()) {
            return JsonNodeFactory.instance.numberNode(BigDecimal.valueOf(node.asDouble()));
        }
        if (node instanceof ObjectNode o) {
            List<String> names = new ArrayList<>();
            o.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                o.set(name, plainFractions(o.get(name)));
            }
        } else if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                a.set(i, plainFractions(a.get(i)));
            }
        }
        return node;
    }

    private static ObjectNode jsonEntry(JsonNode e, Summary summary) {
        String event = text(e, "event");
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.set("ts", e.get("ts"));
        o.set("session", e.get("session"));
        o.set("seq", e.get("seq"));
        o.put("event", event);
        List<String> keys = JSON_KEYS.get(event);
        if (keys == null) {
            // an event of a newer agent: passed on as written
            e.fields().forEachRemaining(f -> {
                if (!o.has(f.getKey())) {
                    o.set(f.getKey(), f.getValue());
                }
            });
            return o;
        }
        for (String key : keys) {
            switch (key) {
                case "messages" -> {
                    List<Message> messages = messages(e);
                    if (messages == null) {
                        o.putNull("messages");
                    } else {
                        ArrayNode array = o.putArray("messages");
                        for (Message m : messages) {
                            array.addObject().put("role", m.role()).put("text", m.text());
                        }
                    }
                }
                case "answer" -> o.set("answer", e.path("completion").isTextual() ? e.get("completion") : null);
                case "content_captured" -> o.put("content_captured", captured(e));
                default -> {
                    JsonNode v = e.get(key);
                    if (v != null) {
                        o.set(key, v);
                    } else {
                        o.putNull(key);
                    }
                }
            }
        }
        if ("llm_call".equals(event)) {
            summary.calls++;
            if (captured(e)) {
                summary.captured++;
            }
        }
        return o;
    }

    // ---- text ---------------------------------------------------------------------------------------------------

    private static void printText(String session, List<Path> files, List<JsonNode> entries, Summary summary,
                                  PrintStream out) {
        boolean anyContent = entries.stream().anyMatch(SessionReplay::captured);
        long calls = entries.stream().filter(e -> "llm_call".equals(text(e, "event"))).count();
        if (summary.entries > 0) {
            out.println();
        }
        out.println("TokenGuard replay of session " + session + ": " + entries.size() + " entries, " + calls
                + " calls");
        if (!anyContent && calls > 0) {
            out.println("no content captured in this session (the agent logs messages and answers with"
                    + " tokenguard.session-log.capture-content=true); the call sequence:");
        }
        for (JsonNode e : entries) {
            summary.entries++;
            String event = String.valueOf(text(e, "event"));
            String head = String.valueOf(text(e, "ts")) + "  #" + e.path("seq").asText("?") + "  ";
            switch (event) {
                case "session_start" -> out.println(head + "session start: scope " + text(e, "scope") + ", thread "
                        + text(e, "thread") + ", pid " + e.path("pid").asText("?") + ", agent "
                        + text(e, "agent_version") + (text(e, "service") == null ? "" : ", service "
                        + text(e, "service")));
                case "llm_call" -> {
                    summary.calls++;
                    if (captured(e)) {
                        summary.captured++;
                    }
                    printCall(head, e, anyContent, out);
                }
                case "budget_warning" -> out.println(head + "WARNING budget '" + text(e, "budget") + "' at "
                        + percent(e.path("threshold")) + ": " + usage(e) + " used");
                case "budget_exceeded" -> out.println(head + "REFUSED " + text(e, "provider") + " "
                        + text(e, "request_model") + optional(" at ", text(e, "call_site")) + ": budget '"
                        + text(e, "budget") + "' exhausted, " + usage(e) + " used; the request was not sent");
                case "budget_changed" -> out.println(head + "budget '" + text(e, "budget") + "' changed: "
                        + text(e, "key") + " " + text(e, "old") + " -> " + text(e, "new")
                        + optional(" by ", text(e, "by")));
                case "session_end" -> out.println(head + "session end (" + text(e, "reason") + "): "
                        + e.path("total_tokens").asText("?") + " tokens (" + e.path("input_tokens").asText("?")
                        + " in, " + e.path("output_tokens").asText("?") + " out), cost " + cost(e.get("cost_usd")));
                default -> {
                    ObjectNode rest = e.deepCopy();
                    rest.remove(List.of("ts", "seq", "session", "event"));
                    out.println(head + event + " " + rest);
                }
            }
        }
    }

    private static void printCall(String head, JsonNode e, boolean sessionHasContent, PrintStream out) {
        out.println(head + "call " + text(e, "provider") + " " + text(e, "operation") + " "
                + text(e, "request_model")
                + (text(e, "response_model") == null || text(e, "response_model").equals(text(e, "request_model"))
                ? "" : " (answered by " + text(e, "response_model") + ")")
                + optional(" at ", text(e, "call_site")) + (e.path("streaming").asBoolean() ? ", streamed" : ""));
        List<Message> messages = messages(e);
        if (messages != null) {
            for (Message m : messages) {
                out.println(INDENT + m.role() + ": " + indented(m.text()));
            }
        }
        if (e.path("completion").isTextual()) {
            out.println(INDENT + "answer: " + indented(e.get("completion").asText()));
        } else if (messages != null || sessionHasContent) {
            out.println(INDENT + "(no answer captured)");
        }
        StringBuilder tokens = new StringBuilder(INDENT).append("tokens: ")
                .append(e.path("input_tokens").asText("?")).append(" in, ")
                .append(e.path("output_tokens").asText("?")).append(" out, ")
                .append(e.path("total_tokens").asText("?")).append(" total");
        if ("estimated".equals(text(e, "usage_source"))) {
            tokens.append(" (estimated)");
        }
        tokens.append("; cost ").append(cost(e.get("cost_usd")));
        if (e.hasNonNull("duration_ms")) {
            tokens.append("; ").append(e.get("duration_ms").asText()).append(" ms");
        }
        if ("error".equals(text(e, "status"))) {
            tokens.append("; failed: ").append(text(e, "error_type"));
        }
        for (JsonNode b : e.path("budget")) {
            tokens.append("; budget '").append(text(b, "name")).append("' ").append(b.path("used").asText("?"))
                    .append(b.hasNonNull("limit") ? " of " + b.get("limit").asText() : "").append(" tokens");
        }
        if (e.path("notice_injected").asBoolean()) {
            tokens.append("; carried the budget note");
        }
        out.println(tokens);
    }

    private static String indented(String text) {
        return text.replace("\r\n", "\n").replace("\n", "\n" + INDENT + "  ");
    }

    private static String optional(String prefix, String value) {
        return value == null ? "" : prefix + value;
    }

    private static String percent(JsonNode threshold) {
        if (!threshold.isNumber()) {
            return "?";
        }
        double p = threshold.asDouble() * 100;
        return (p == Math.rint(p) ? Long.toString((long) p) : String.format(Locale.ROOT, "%.1f", p)) + " %";
    }

    /** {@code used of limit} with the unit: tokens, or USD where the line says {@code "unit":"usd"}. */
    private static String usage(JsonNode e) {
        boolean usd = "usd".equals(text(e, "unit"));
        return amount(e.get("used"), usd) + " of " + amount(e.get("limit"), usd) + (usd ? "" : " tokens");
    }

    private static String amount(JsonNode v, boolean usd) {
        if (v == null || !v.isNumber()) {
            return "?";
        }
        return usd ? String.format(Locale.ROOT, "$%.6f", v.asDouble()) : v.asText();
    }

    private static String cost(JsonNode cost) {
        return cost == null || !cost.isNumber() ? "unknown (model not priced)"
                : String.format(Locale.ROOT, "$%.6f", cost.asDouble());
    }

    // ---- captured content ---------------------------------------------------------------------------------------

    /** One message of a captured prompt. */
    record Message(String role, String text) {
    }

    static boolean captured(JsonNode e) {
        return e.path("prompt").isTextual() || e.path("completion").isTextual();
    }

    /**
     * The messages of a call's captured {@code prompt}, or null when none was captured. The prompt is the request's
     * own JSON fields ({@code messages}; {@code system}; {@code instructions} and {@code input}); text that is not
     * such JSON (cut at the capture limit, or a provider that logs plain text) is one {@code prompt} message.
     */
    static List<Message> messages(JsonNode e) {
        JsonNode prompt = e.get("prompt");
        if (prompt == null || !prompt.isTextual()) {
            return null;
        }
        JsonNode json = SessionLogReader.parse(prompt.asText());
        List<Message> messages = new ArrayList<>();
        if (json == null || !(json.has("messages") || json.has("system") || json.has("instructions")
                || json.has("input"))) {
            messages.add(new Message("prompt", prompt.asText()));
            return messages;
        }
        if (json.has("system")) {
            messages.add(new Message("system", contentText(json.get("system"))));
        }
        if (json.has("instructions") && !json.get("instructions").isNull()) {
            messages.add(new Message("instructions", contentText(json.get("instructions"))));
        }
        for (String field : List.of("messages", "input")) {
            JsonNode list = json.get(field);
            if (list == null || list.isNull()) {
                continue;
            }
            if (!list.isArray()) {
                messages.add(new Message("user", contentText(list)));
                continue;
            }
            for (JsonNode m : list) {
                if (m.isObject() && m.has("role")) {
                    messages.add(new Message(m.get("role").asText(), messageText(m)));
                } else {
                    messages.add(new Message(field.equals("input") ? "input" : "message", contentText(m)));
                }
            }
        }
        return messages;
    }

    /** A message's content, then the tools it calls. */
    private static String messageText(JsonNode m) {
        StringBuilder text = new StringBuilder(contentText(m.get("content")));
        for (JsonNode call : m.path("tool_calls")) {
            JsonNode fn = call.path("function");
            append(text, "[calls " + fn.path("name").asText("?") + " " + fn.path("arguments").asText("") + "]");
        }
        if (m.hasNonNull("tool_call_id")) {
            text.insert(0, "[result of " + m.get("tool_call_id").asText() + "] ");
        }
        return text.toString();
    }

    /** A content value as text: a string as is; the text of each block of an array, other blocks by type. */
    private static String contentText(JsonNode content) {
        if (content == null || content.isNull()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        if (content.isArray()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode block : content) {
                append(text, blockText(block));
            }
            return text.toString();
        }
        return blockText(content);
    }

    private static String blockText(JsonNode block) {
        if (block.isTextual()) {
            return block.asText();
        }
        if (block.path("text").isTextual()) {
            return block.get("text").asText();
        }
        String type = block.path("type").asText("");
        switch (type) {
            case "tool_use" -> {
                return "[calls " + block.path("name").asText("?") + " " + block.path("input") + "]";
            }
            case "tool_result" -> {
                return "[result of " + block.path("tool_use_id").asText("?") + "] "
                        + contentText(block.get("content"));
            }
            default -> {
                if (!type.isEmpty()) {
                    return "[" + type + "]";
                }
            }
        }
        if (block.isObject() && block.has("role")) {
            return block.get("role").asText() + ": " + messageText(block);
        }
        return block.toString();
    }

    private static void append(StringBuilder text, String part) {
        if (part == null || part.isEmpty()) {
            return;
        }
        if (text.length() > 0) {
            text.append('\n');
        }
        text.append(part);
    }

    private static String text(JsonNode e, String field) {
        JsonNode v = e.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }
}
