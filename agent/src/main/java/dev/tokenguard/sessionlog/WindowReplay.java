package dev.tokenguard.sessionlog;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.ScopeSpec;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Rebuilds windowed {@code global} and {@code mdc:} budgets after a restart from the session logs of their current
 * window: every {@code llm_call} of the same service in the session-log directory (either layout, any earlier
 * process) whose {@code ts} lies in the budget's current window is added to each budget its {@code budget} entries
 * name ({@code name} and {@code scope}); entries of {@code thread:} scopes are never restored.
 *
 * <p>Which service a line belongs to: a daily file names its service ({@link DailyFileName}); a file of the session
 * layout says it in its {@code session_start} line. A file without either (written before lines named their
 * service) is not replayed.
 *
 * <p>Speed: a window can hold millions of lines, and a service waits for the replay before its first call. Each line
 * is read by a narrow scanner that knows the order in which {@link SessionLogWriter} writes its keys and looks at
 * nothing but {@code ts}, {@code event}, the token counts, {@code cost_usd}, the budget entries and, for a line it
 * accepts, that the line ends as a whole JSON object does (string-aware), so a line cut short by a crash is never
 * counted. A line it does not recognise (another key order, escapes in a budget entry) is parsed whole with Jackson;
 * a line Jackson cannot parse either is skipped and counted. Jackson's streaming parser was the first choice, but
 * at some 640 bytes a line it tokenises every value (trace ids, models, call sites): reading the same fields of a
 * window of 1,000,000 lines it took about twice the CPU time of this scanner (docs/PERFORMANCE.md).
 */
public final class WindowReplay {
    /** Made on first use: a start-up without windowed budgets never needs java.time's formatters. */
    private static final class Timestamps {
        static final DateTimeFormatter FORMAT =
                DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
    }
    /** A file last written this long before a window started can hold no line of it (the clock and mtimes may differ a little). */
    static final long MTIME_SLACK_MILLIS = 60_000;
    private static final int CANCEL_CHECK_LINES = 4096;

    private static final byte[] TS_HEAD = ascii("{\"ts\":\"");
    private static final int TS_LENGTH = 24;
    private static final byte[] EVENT = ascii(",\"event\":\"");
    private static final byte[] LLM_CALL = ascii("llm_call\"");
    private static final byte[] SESSION_START = ascii("session_start\"");
    private static final byte[] SERVICE = ascii(",\"service\":\"");
    private static final byte[] INPUT = ascii(",\"input_tokens\":");
    private static final byte[] OUTPUT = ascii(",\"output_tokens\":");
    private static final byte[] COST = ascii(",\"cost_usd\":");
    private static final byte[] BUDGET = ascii(",\"budget\":[");
    private static final byte[] ENTRY_NAME = ascii("{\"name\":\"");
    private static final byte[] ENTRY_SCOPE = ascii(",\"scope\":\"");
    private static final byte[] ENTRY_USED = ascii(",\"used\":");
    private static final byte[] ENTRY_LIMIT = ascii(",\"limit\":");

    /**
     * A budget the replay restores: windowed, scope {@code global} or {@code mdc:}.
     *
     * @param budget            the budget's name
     * @param scope             its scope
     * @param windowStartMillis the start of its current window
     */
    public record Target(String budget, ScopeSpec scope, long windowStartMillis) {
        boolean takes(String scopeKey) {
            return scope.kind() == ScopeSpec.Kind.GLOBAL ? scopeKey.equals("global")
                    : scopeKey.startsWith("mdc:" + scope.mdcKey() + "=");
        }
    }

    /**
     * Usage read for one scope instance of one budget.
     *
     * @param calls       {@code llm_call} lines counted
     * @param costNanoUsd cost of the priced ones, nano-USD
     */
    public record Usage(long calls, long inputTokens, long outputTokens, long costNanoUsd) {
    }

    /**
     * What a replay read.
     *
     * @param files           files of this service read (written since the oldest window started)
     * @param lines           lines looked at
     * @param calls           {@code llm_call} lines counted for at least one budget
     * @param unreadableLines lines skipped because they were not one whole JSON object
     * @param parsedWhole     lines the narrow scanner handed to Jackson (another key order, escapes, cut-off lines)
     * @param fileErrors      files that could not be read, one message each
     * @param usage           by budget name, then scope key
     * @param cancelled       whether the replay stopped before the end (what was read so far is in {@code usage})
     */
    public record Result(int files, long lines, long calls, long unreadableLines, long parsedWhole,
                         List<String> fileErrors,
                         Map<String, Map<String, Usage>> usage, boolean cancelled) {
        /** Tokens (input + output) read in all. */
        public long tokens() {
            long sum = 0;
            for (Map<String, Usage> byScope : usage.values()) {
                for (Usage u : byScope.values()) {
                    sum += u.inputTokens() + u.outputTokens();
                }
            }
            return sum;
        }
    }

    private WindowReplay() {
    }

    /** The budgets a restart restores: those with a window and a {@code global} or {@code mdc:} scope. */
    public static List<Target> targets(List<BudgetSpec> budgets, long nowMillis) {
        List<Target> targets = new ArrayList<>();
        for (BudgetSpec b : budgets) {
            if (b.window() == null || b.scope().kind() == ScopeSpec.Kind.THREAD) {
                continue;
            }
            long windowMillis = b.window().toMillis();
            targets.add(new Target(b.name(), b.scope(), Math.floorDiv(nowMillis, windowMillis) * windowMillis));
        }
        return targets;
    }

    /**
     * Reads the lines of the targets' windows that were written before {@code untilMillis}.
     *
     * @param dir         the session-log directory
     * @param service     this process's service; other services' files are left alone
     * @param targets     the budgets to restore
     * @param untilMillis lines from this instant on are not read (this process's own lines)
     * @param cancelled   polled while reading; when true the replay stops and returns what it read
     */
    public static Result read(Path dir, String service, List<Target> targets, long untilMillis,
                              BooleanSupplier cancelled) {
        Scan scan = new Scan(DailyFileName.safeService(service), targets, untilMillis, cancelled);
        if (targets.isEmpty() || !Files.isDirectory(dir)) {
            return scan.result(0, false);
        }
        long oldest = Long.MAX_VALUE;
        for (Target t : targets) {
            oldest = Math.min(oldest, t.windowStartMillis());
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> list = Files.newDirectoryStream(dir, "*.jsonl")) {
            for (Path p : list) {
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    if (a.isRegularFile() && a.lastModifiedTime().toMillis() >= oldest - MTIME_SLACK_MILLIS) {
                        files.add(p);
                    }
                } catch (IOException gone) {
                    // deleted meanwhile (retention)
                }
            }
        } catch (IOException e) {
            scan.errors.add("cannot list session-log directory " + dir + ": " + e);
            return scan.result(0, false);
        }
        files.sort(null);
        int read = 0;
        for (Path file : files) {
            if (scan.stop()) {
                return scan.result(read, true);
            }
            DailyFileName daily = DailyFileName.parse(file.getFileName().toString());
            if (daily != null && !daily.service().equals(scan.service)) {
                continue;
            }
            try {
                if (scan.file(file, daily != null)) {
                    read++;
                }
            } catch (IOException e) {
                scan.errors.add("cannot read session-log file " + file + ": " + e);
            }
        }
        return scan.result(read, scan.stop());
    }

    /**
     * Adds what was read to the engine ({@link BudgetEngine#seed}).
     *
     * @return the tokens added
     */
    public static long seed(BudgetEngine engine, List<Target> targets, Result result) {
        long added = 0;
        for (Target t : targets) {
            Map<String, Usage> byScope = result.usage().get(t.budget());
            if (byScope == null) {
                continue;
            }
            for (Map.Entry<String, Usage> e : byScope.entrySet()) {
                Usage u = e.getValue();
                if (engine.seed(t.budget(), e.getKey(), t.windowStartMillis(), u.inputTokens(), u.outputTokens(),
                        u.costNanoUsd())) {
                    added += u.inputTokens() + u.outputTokens();
                }
            }
        }
        return added;
    }

    // ---------------------------------------------------------------------------------------------

    /** The state of one replay. */
    private static final class Scan {
        final String service;
        final Target[] targets;
        final byte[][] windowStarts;
        final byte[] oldestStart;
        final byte[] until;
        final BooleanSupplier cancelled;
        final List<String> errors = new ArrayList<>();
        /** Per target: scope key -> {calls, input, output, cost}. */
        final List<Map<String, long[]>> sums = new ArrayList<>();
        long lines;
        long calls;
        long unreadable;
        long parsedWhole;
        boolean stopped;

        // the line being read
        long input;
        long output;
        long cost;
        final List<String> names = new ArrayList<>(4);
        final List<String> scopes = new ArrayList<>(4);
        /** The raw bytes (name to scope) of the first budget entries of the last lines, and their strings. */
        final byte[][] cachedEntry = new byte[ENTRY_CACHE][];
        final String[] cachedName = new String[ENTRY_CACHE];
        final String[] cachedScope = new String[ENTRY_CACHE];

        Scan(String service, List<Target> targets, long untilMillis, BooleanSupplier cancelled) {
            this.service = service;
            this.targets = targets.toArray(new Target[0]);
            this.windowStarts = new byte[this.targets.length][];
            byte[] oldest = null;
            for (int i = 0; i < this.targets.length; i++) {
                windowStarts[i] = ascii(Timestamps.FORMAT.format(
                        Instant.ofEpochMilli(this.targets[i].windowStartMillis())));
                if (oldest == null || compare(windowStarts[i], 0, oldest) < 0) {
                    oldest = windowStarts[i];
                }
                sums.add(new LinkedHashMap<>());
            }
            this.oldestStart = oldest;
            this.until = ascii(Timestamps.FORMAT.format(Instant.ofEpochMilli(untilMillis)));
            this.cancelled = cancelled;
        }

        boolean stop() {
            if (!stopped && cancelled.getAsBoolean()) {
                stopped = true;
            }
            return stopped;
        }

        /** Reads one file; false when it was not this service's (another's, or one that names none). */
        boolean file(Path path, boolean serviceKnown) throws IOException {
            boolean[] known = {serviceKnown};
            byte[] buf = new byte[1 << 20];
            int start = 0;
            int end = 0;
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                boolean eof = false;
                while (true) {
                    int nl = newline(buf, start, end);
                    if (nl < 0) {
                        if (eof) {
                            if (end > start) {
                                int r = line(buf, start, end, known);
                                if (r < 0) {
                                    return false;
                                }
                            }
                            return known[0];
                        }
                        if (start > 0) {
                            System.arraycopy(buf, start, buf, 0, end - start);
                            end -= start;
                            start = 0;
                        }
                        if (end == buf.length) {
                            buf = Arrays.copyOf(buf, buf.length * 2);
                        }
                        int n = ch.read(ByteBuffer.wrap(buf, end, buf.length - end));
                        if (n < 0) {
                            eof = true;
                        } else {
                            end += n;
                        }
                        continue;
                    }
                    int r = line(buf, start, nl, known);
                    if (r < 0) {
                        return false;
                    }
                    start = nl + 1;
                    if ((lines & (CANCEL_CHECK_LINES - 1)) == 0 && stop()) {
                        return known[0];
                    }
                }
            }
        }

        /** One line [from, to) without its newline: 0, or -1 when it says the file is another service's. */
        int line(byte[] b, int from, int to, boolean[] serviceKnown) {
            while (to > from && (b[to - 1] == '\r' || b[to - 1] == ' ' || b[to - 1] == '\t')) {
                to--;
            }
            if (to == from) {
                return 0;
            }
            lines++;
            int tsEnd = from + TS_HEAD.length + TS_LENGTH;
            if (to > tsEnd && startsWith(b, from, TS_HEAD) && b[tsEnd] == '"') {
                int ts = from + TS_HEAD.length;
                int e = indexOf(b, tsEnd, to, EVENT);
                if (e >= 0) {
                    e += EVENT.length;
                    if (startsWith(b, e, LLM_CALL)) {
                        if (!serviceKnown[0] || compare(b, ts, oldestStart) < 0 || compare(b, ts, until) >= 0) {
                            return 0; // not of this service, or outside every window (a cut-off line as well)
                        }
                        if (fastCall(b, e + LLM_CALL.length, to)) {
                            add(b, ts);
                            return 0;
                        }
                    } else if (startsWith(b, e, SESSION_START)) {
                        if (!serviceKnown[0]) {
                            String s = fastService(b, e + SESSION_START.length, to);
                            if (s != null) {
                                if (!DailyFileName.safeService(s).equals(service)) {
                                    return -1;
                                }
                                serviceKnown[0] = true;
                                return 0;
                            }
                        } else {
                            return 0;
                        }
                    } else {
                        return 0; // another event: nothing to count
                    }
                }
            }
            return slow(new String(b, from, to - from, StandardCharsets.UTF_8), serviceKnown);
        }

        /** The line parsed whole: for key orders the scanner does not know. */
        int slow(String text, boolean[] serviceKnown) {
            parsedWhole++;
            JsonNode n = SessionLogReader.parse(text);
            if (n == null) {
                unreadable++;
                return 0;
            }
            String event = n.path("event").asText("");
            if (event.equals("session_start") && !serviceKnown[0]) {
                JsonNode s = n.get("service");
                if (s != null && s.isTextual()) {
                    if (!DailyFileName.safeService(s.asText()).equals(service)) {
                        return -1;
                    }
                    serviceKnown[0] = true;
                }
                return 0;
            }
            if (!event.equals("llm_call") || !serviceKnown[0]) {
                return 0;
            }
            byte[] ts = ascii(n.path("ts").asText(""));
            if (ts.length != TS_LENGTH || compare(ts, 0, oldestStart) < 0 || compare(ts, 0, until) >= 0) {
                return 0;
            }
            input = nonNegative(n.get("input_tokens"));
            output = nonNegative(n.get("output_tokens"));
            JsonNode c = n.get("cost_usd");
            cost = c != null && c.isNumber() ? nanoUsd(c.asDouble()) : 0;
            names.clear();
            scopes.clear();
            for (JsonNode entry : n.path("budget")) {
                JsonNode name = entry.get("name");
                JsonNode scope = entry.get("scope");
                if (name != null && name.isTextual() && scope != null && scope.isTextual()) {
                    names.add(name.asText());
                    scopes.add(scope.asText());
                }
            }
            add(ts, 0);
            return 0;
        }

        /** Reads the counts and budget entries after {@code "event":"llm_call"}; false when the line is not as written. */
        boolean fastCall(byte[] b, int p, int to) {
            p = indexOf(b, p, to, INPUT);
            if (p < 0) {
                return false;
            }
            p += INPUT.length;
            long in = number(b, p, to);
            if (in == BAD) {
                return false;
            }
            p = indexOf(b, p, to, OUTPUT);
            if (p < 0) {
                return false;
            }
            p += OUTPUT.length;
            long out = number(b, p, to);
            if (out == BAD) {
                return false;
            }
            p = indexOf(b, p, to, COST);
            if (p < 0) {
                return false;
            }
            p += COST.length;
            int costEnd = p;
            while (costEnd < to && b[costEnd] != ',' && b[costEnd] != '}') {
                costEnd++;
            }
            long c;
            if (costEnd - p == 4 && b[p] == 'n') {
                c = 0; // null: not priced
            } else {
                c = plainNanoUsd(b, p, costEnd);
                if (c == BAD) {
                    try {
                        c = nanoUsd(Double.parseDouble(new String(b, p, costEnd - p, StandardCharsets.ISO_8859_1)));
                    } catch (NumberFormatException e) {
                        return false;
                    }
                }
            }
            p = indexOf(b, costEnd, to, BUDGET);
            if (p < 0) {
                return false;
            }
            p += BUDGET.length;
            names.clear();
            scopes.clear();
            if (p < to && b[p] == ']') {
                p++;
            } else {
                while (true) {
                    if (!startsWith(b, p, ENTRY_NAME)) {
                        return false;
                    }
                    p += ENTRY_NAME.length;
                    int q = plainStringEnd(b, p, to);
                    if (q < 0 || !startsWith(b, q + 1, ENTRY_SCOPE)) {
                        return false;
                    }
                    int nameStart = p;
                    int nameEnd = q;
                    p = q + 1 + ENTRY_SCOPE.length;
                    q = plainStringEnd(b, p, to);
                    if (q < 0) {
                        return false;
                    }
                    int entry = names.size();
                    String name;
                    String scope;
                    if (entry < ENTRY_CACHE && cachedEntry[entry] != null
                            && Arrays.equals(cachedEntry[entry], 0, cachedEntry[entry].length, b, nameStart, q)) {
                        name = cachedName[entry]; // the same budget and scope as the line before: no new strings
                        scope = cachedScope[entry];
                    } else {
                        name = new String(b, nameStart, nameEnd - nameStart, StandardCharsets.UTF_8);
                        scope = new String(b, p, q - p, StandardCharsets.UTF_8);
                        if (entry < ENTRY_CACHE) {
                            cachedEntry[entry] = Arrays.copyOfRange(b, nameStart, q);
                            cachedName[entry] = name;
                            cachedScope[entry] = scope;
                        }
                    }
                    p = q + 1;
                    if (!startsWith(b, p, ENTRY_USED)) {
                        return false;
                    }
                    p += ENTRY_USED.length;
                    if (number(b, p, to) == BAD) {
                        return false;
                    }
                    p = indexOf(b, p, to, ENTRY_LIMIT);
                    if (p < 0) {
                        return false;
                    }
                    p += ENTRY_LIMIT.length;
                    if (number(b, p, to) == BAD) {
                        return false;
                    }
                    while (p < to && b[p] != '}') {
                        p++; // number() checked that only digits or null come before it
                    }
                    p++;
                    names.add(name);
                    scopes.add(scope);
                    if (p < to && b[p] == ',') {
                        p++;
                    } else if (p < to && b[p] == ']') {
                        p++;
                        break;
                    } else {
                        return false;
                    }
                }
            }
            if (!endsAsObject(b, p, to)) {
                return false;
            }
            input = in;
            output = out;
            cost = c;
            return true;
        }

        /** Adds the line just read to every target its budget entries name. */
        private void add(byte[] tsBytes, int ts) {
            boolean counted = false;
            for (int i = 0; i < names.size(); i++) {
                String name = names.get(i);
                String scope = scopes.get(i);
                for (int t = 0; t < targets.length; t++) {
                    Target target = targets[t];
                    if (target.budget().equals(name) && target.takes(scope)
                            && compare(tsBytes, ts, windowStarts[t]) >= 0) {
                        long[] s = sums.get(t).computeIfAbsent(scope, k -> new long[4]);
                        s[0]++;
                        s[1] += input;
                        s[2] += output;
                        s[3] += cost;
                        counted = true;
                    }
                }
            }
            if (counted) {
                calls++;
            }
        }

        /** The service named after {@code "event":"session_start"}, or null. */
        String fastService(byte[] b, int p, int to) {
            p = indexOf(b, p, to, SERVICE);
            if (p < 0) {
                return null;
            }
            p += SERVICE.length;
            int q = plainStringEnd(b, p, to);
            return q < 0 || !endsAsObject(b, q + 1, to) ? null : new String(b, p, q - p, StandardCharsets.UTF_8);
        }

        Result result(int files, boolean cancelled) {
            Map<String, Map<String, Usage>> usage = new LinkedHashMap<>();
            for (int t = 0; t < targets.length; t++) {
                Map<String, long[]> bySum = sums.get(t);
                if (bySum.isEmpty()) {
                    continue;
                }
                Map<String, Usage> byScope = usage.computeIfAbsent(targets[t].budget(), k -> new LinkedHashMap<>());
                for (Map.Entry<String, long[]> e : bySum.entrySet()) {
                    long[] s = e.getValue();
                    byScope.put(e.getKey(), new Usage(s[0], s[1], s[2], s[3]));
                }
            }
            return new Result(files, lines, calls, unreadable, parsedWhole, List.copyOf(errors), usage, cancelled);
        }
    }

    private static final long BAD = Long.MIN_VALUE;
    private static final int ENTRY_CACHE = 4;

    /**
     * A cost written as the writer writes it (plain decimal, at most 12 places) in nano-USD, rounded half up as
     * {@link #nanoUsd} rounds; {@link #BAD} for any other form (the caller then parses it as a double).
     */
    static long plainNanoUsd(byte[] b, int p, int end) {
        long units = 0;
        int i = p;
        while (i < end && b[i] >= '0' && b[i] <= '9') {
            units = units * 10 + (b[i] - '0');
            i++;
            if (i - p > 9) {
                return BAD;
            }
        }
        if (i == p) {
            return BAD;
        }
        long nanos = 0;
        int places = 0;
        boolean roundUp = false;
        if (i < end && b[i] == '.') {
            i++;
            int fractionStart = i;
            while (i < end && b[i] >= '0' && b[i] <= '9') {
                if (places < 9) {
                    nanos = nanos * 10 + (b[i] - '0');
                    places++;
                } else if (places == 9) {
                    roundUp = b[i] >= '5';
                    places++;
                }
                i++;
            }
            if (i == fractionStart) {
                return BAD;
            }
        }
        if (i != end) {
            return BAD;
        }
        for (int k = Math.min(places, 9); k < 9; k++) {
            nanos *= 10;
        }
        return units * 1_000_000_000L + nanos + (roundUp ? 1 : 0);
    }

    /** A non-negative whole number or {@code null} (0) at p, followed by ',' or '}'; {@link #BAD} otherwise. */
    static long number(byte[] b, int p, int to) {
        if (p + 4 <= to && b[p] == 'n' && b[p + 1] == 'u' && b[p + 2] == 'l' && b[p + 3] == 'l') {
            return p + 4 < to && (b[p + 4] == ',' || b[p + 4] == '}') ? 0 : BAD;
        }
        long v = 0;
        int start = p;
        while (p < to && b[p] >= '0' && b[p] <= '9') {
            int digit = b[p] - '0';
            if (v > (Long.MAX_VALUE - digit) / 10) {
                return BAD;
            }
            v = v * 10 + digit;
            p++;
        }
        return p > start && p < to && (b[p] == ',' || b[p] == '}') ? v : BAD;
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long NEWLINES = ONES * '\n';

    /** The index of the first '\n' in [from, to), or -1: eight bytes at a time (a line is some 600 bytes). */
    static int newline(byte[] b, int from, int to) {
        int i = from;
        for (; i + 8 <= to; i += 8) {
            long x = (long) LONGS.get(b, i) ^ NEWLINES;
            long found = (x - ONES) & ~x & HIGHS;
            if (found != 0) {
                return i + (Long.numberOfTrailingZeros(found) >>> 3);
            }
        }
        for (; i < to; i++) {
            if (b[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** The index of the closing quote of a string starting at p that has no escape, or -1. */
    static int plainStringEnd(byte[] b, int p, int to) {
        for (int i = p; i < to; i++) {
            byte c = b[i];
            if (c == '"') {
                return i;
            }
            if (c == '\\') {
                return -1;
            }
        }
        return -1;
    }

    /**
     * Whether the rest of a line, from p inside the top-level object, closes that object exactly at its last byte:
     * strings and nesting tracked, so a line cut inside a later value is told apart from a whole one.
     */
    static boolean endsAsObject(byte[] b, int p, int to) {
        int depth = 1;
        boolean inString = false;
        for (int i = p; i < to; i++) {
            byte c = b[i];
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                depth--;
                if (depth == 0) {
                    return i == to - 1;
                }
            }
        }
        return false;
    }

    static long nanoUsd(double usd) {
        return usd > 0 && !Double.isInfinite(usd) ? Math.round(usd * 1e9) : 0;
    }

    private static long nonNegative(JsonNode n) {
        return n != null && n.canConvertToLong() && n.asLong() > 0 ? n.asLong() : 0;
    }

    private static boolean startsWith(byte[] b, int p, byte[] prefix) {
        if (p < 0 || p + prefix.length > b.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (b[p + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static int indexOf(byte[] b, int from, int to, byte[] pattern) {
        byte first = pattern[0];
        int last = to - pattern.length;
        outer:
        for (int i = from; i <= last; i++) {
            if (b[i] != first) {
                continue;
            }
            for (int j = 1; j < pattern.length; j++) {
                if (b[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Compares TS_LENGTH bytes of {@code b} at p with the timestamp {@code ts}. */
    private static int compare(byte[] b, int p, byte[] ts) {
        for (int i = 0; i < TS_LENGTH; i++) {
            int d = b[p + i] - ts[i];
            if (d != 0) {
                return d;
            }
        }
        return 0;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
