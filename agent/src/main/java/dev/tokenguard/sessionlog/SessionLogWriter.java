package dev.tokenguard.sessionlog;

import dev.tokenguard.budget.BudgetState;
import dev.tokenguard.budget.ChargeResult;
import dev.tokenguard.budget.LimitKind;
import dev.tokenguard.budget.Session;
import dev.tokenguard.budget.SessionListener;
import dev.tokenguard.core.CallRecord;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Appends the JSONL session log under one directory, one JSON object per line: one file per session
 * ({@link LogLayout#SESSION}), or one file per UTC day and process ({@link LogLayout#DAILY}, named by
 * {@link DailyFileName}; the day's file is closed at the first line of the next UTC day).
 *
 * <p>Every line is encoded in memory, then written with one write on a channel opened in append
 * mode, so it reaches the operating system before the method returns (no buffering across calls).
 * Lines are encoded with jackson-core's streaming generator into a reusable buffer ({@link LineEncoder},
 * a few kept per writer), so a line costs no intermediate tree and, once warm, almost no allocation.
 * Lines of one session are serialized by a lock per file; the session's {@code seq} is taken under
 * that lock, so line order in the file equals {@code seq} order.
 *
 * <p>Retention ({@link LogRetention}) runs on a background thread at start ({@link #startRetention()}), at each
 * daily roll and when a session's file is closed, at most once per {@link #SWEEP_INTERVAL_MILLIS}; it never deletes
 * a file this writer holds open.
 *
 * <p>The writer never throws to its callers: every I/O failure drops the line and is reported once
 * per kind through the error reporter given at construction.
 */
public final class SessionLogWriter implements AutoCloseable {

    /** At most this many files are open at once; the least recently used is closed beyond it. */
    static final int MAX_OPEN_FILES = 256;
    /** Captured prompt and completion text is cut to this many characters. */
    static final int MAX_CONTENT_CHARS = 4_000;
    /** The longest file name {@link #fileNameFor} returns, extension included. */
    static final int MAX_FILE_NAME_CHARS = 150;

    /** Retention sweeps start at most this often (besides the first, at start). */
    static final long SWEEP_INTERVAL_MILLIS = 60_000;
    private static final long MILLIS_PER_DAY = 86_400_000L;

    /**
     * How files are laid out and kept.
     *
     * @param layout        one file per session, or per UTC day and process
     * @param service       the service the lines belong to (written by {@code session_start}, part of daily file names)
     * @param process       this process in daily file names ({@link DailyFileName#currentProcess()})
     * @param maxAge        retention: files last written longer ago are deleted; null for no limit
     * @param maxTotalBytes retention: the directory is kept under this size; negative for no limit
     */
    public record Settings(LogLayout layout, String service, String process, Duration maxAge, long maxTotalBytes) {
        /** One file per session, service {@value ServiceName#DEFAULT}, no retention. */
        public static final Settings DEFAULT =
                new Settings(LogLayout.SESSION, ServiceName.DEFAULT, DailyFileName.currentProcess(), null, -1);

        public Settings {
            Objects.requireNonNull(layout, "layout");
            Objects.requireNonNull(service, "service");
            Objects.requireNonNull(process, "process");
        }
    }

    private static final String EXTENSION = ".jsonl";
    private static final int HASH_HEX_CHARS = 16;
    private static final String HASH_MARK = "-h";
    private static final Pattern LOOKS_HASHED = Pattern.compile(".*-h[0-9a-f]{" + HASH_HEX_CHARS + "}");
    /** For a {@code ts} outside the years 1000 to 9999 only: made on first use (java.time's formatters are costly to set up). */
    private static final class OddYears {
        static final DateTimeFormatter TIMESTAMP =
                DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
    }

    private final Path dir;
    private final String agentVersion;
    private final long pid;
    private final Clock clock;
    private final Consumer<String> errorReporter;
    private final boolean posix;
    private final Settings settings;
    private final LogRetention retention;
    private final AtomicBoolean sweeping = new AtomicBoolean();
    /**
     * Runs retention sweeps: a daemon thread each; tests run them on the calling thread. Here and below, classes
     * rather than lambdas where the code runs at the agent's start-up or on a first call: a lambda is a class the
     * JVM spins at run time, on the start-up's critical path.
     */
    private volatile Executor sweeps = new Executor() {
        @Override
        public void execute(Runnable sweep) {
            Thread t = new Thread(sweep, "tokenguard-log-retention");
            t.setDaemon(true);
            t.start();
        }
    };
    private volatile long lastSweepStart = Long.MIN_VALUE;
    /** The newest daily file; those of earlier days are closed. */
    private volatile DayFile currentDay = new DayFile(Long.MIN_VALUE, null);

    /** A UTC day (epoch day) and the name of its daily file. */
    private record DayFile(long day, String name) {
    }

    /** Line encoders not in use; a writer keeps at most this many (more are made, and dropped, under contention). */
    private final AtomicReferenceArray<LineEncoder> encoders =
            new AtomicReferenceArray<>(Math.max(4, 2 * Runtime.getRuntime().availableProcessors()));

    private final ConcurrentHashMap<String, SessionFile> files = new ConcurrentHashMap<>();
    /** Makes the entry of a file not yet in {@link #files} (one function, not a lambda made per line). */
    private final java.util.function.Function<String, SessionFile> newFile =
            new java.util.function.Function<>() {
                @Override
                public SessionFile apply(String name) {
                    return new SessionFile(dir().resolve(name));
                }
            };
    /** Files with an open channel, least recently used first. Guarded by itself. */
    private final LinkedHashMap<SessionFile, Boolean> openFiles = new LinkedHashMap<>(64, 0.75f, true);
    private final Set<String> reportedKinds = ConcurrentHashMap.newKeySet();
    private volatile boolean dirReady;

    /**
     * @param dir           the session-log directory; created on first use (owner-only where we create it)
     * @param agentVersion  written by {@code session_start}
     * @param pid           the process id, written by {@code session_start}
     * @param clock         the source of every line's {@code ts}
     * @param errorReporter receives one line per distinct kind of failure; never sees a secret
     */
    public SessionLogWriter(Path dir, String agentVersion, long pid, Clock clock, Consumer<String> errorReporter) {
        this(dir, agentVersion, pid, clock, errorReporter, Settings.DEFAULT);
    }

    /**
     * @param settings the layout, the service and the retention
     * @see #SessionLogWriter(Path, String, long, Clock, Consumer)
     */
    public SessionLogWriter(Path dir, String agentVersion, long pid, Clock clock, Consumer<String> errorReporter,
                            Settings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.dir = Objects.requireNonNull(dir, "dir").toAbsolutePath().normalize();
        this.agentVersion = agentVersion;
        this.pid = pid;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.errorReporter = Objects.requireNonNull(errorReporter, "errorReporter");
        this.posix = this.dir.getFileSystem().supportedFileAttributeViews().contains("posix");
        this.retention = new LogRetention(this.dir, settings.maxAge(), settings.maxTotalBytes(), clock,
                new java.util.function.Predicate<>() {
                    @Override
                    public boolean test(String name) {
                        return files.containsKey(name);
                    }
                }, errorReporter);
    }

    /** The layout, service and retention this writer was made with. */
    public Settings settings() {
        return settings;
    }

    /** The retention of this writer's directory (a sweep run on the calling thread spares this writer's open files). */
    public LogRetention retention() {
        return retention;
    }

    /** Runs the retention sweeps this writer starts with {@code executor} (tests: on the calling thread). */
    void sweepWith(Executor executor) {
        this.sweeps = Objects.requireNonNull(executor);
    }

    /** Starts a retention sweep on a background thread, as at start-up. */
    public void startRetention() {
        requestSweep(true);
    }

    /** The directory this writer writes to (absolute, normalized). */
    public Path dir() {
        return dir;
    }

    /** Event {@code session_start}: {@code scope}, {@code thread}, {@code pid}, {@code agent_version}, {@code service}. */
    public void sessionStart(Session s) {
        append(s, "session_start", false, new SessionStartFields(s));
    }

    private final class SessionStartFields implements Fields {
        private final Session s;

        SessionStartFields(Session s) {
            this.s = s;
        }

        @Override
        public void write(JsonLine g) {
            g.writeStringField("scope", s.scopeKey());
            g.writeStringField("thread", s.threadName());
            g.writeNumberField("pid", pid);
            g.writeStringField("agent_version", agentVersion);
            g.writeStringField("service", settings.service());
        }
    }

    /**
     * Event {@code llm_call}, every field of the contract in its order. {@code promptContent} and
     * {@code completionContent} are written (as {@code prompt} and {@code completion}, cut to
     * {@value #MAX_CONTENT_CHARS} characters) only when non-null, that is when content capture is on.
     */
    public void llmCall(Session s, CallRecord r, List<BudgetState> budgets, String traceId, String spanId,
                        String promptContent, String completionContent) {
        llmCall(s, r, budgets, traceId, spanId, promptContent, completionContent, false);
    }

    /**
     * Event {@code llm_call}, as above, with {@code notice_injected}: whether the request carried a
     * budget note ({@code tokenguard.warnings.inject}).
     */
    public void llmCall(Session s, CallRecord r, List<BudgetState> budgets, String traceId, String spanId,
                        String promptContent, String completionContent, boolean noticeInjected) {
        llmCall(s, r, budgets, null, traceId, spanId, promptContent, completionContent, noticeInjected);
    }

    /**
     * Event {@code llm_call}, as above, with the budgets as the charge left them (read from the charge, without
     * making a {@link BudgetState} per budget).
     */
    public void llmCall(Session s, CallRecord r, ChargeResult charge, String traceId, String spanId,
                        String promptContent, String completionContent, boolean noticeInjected) {
        llmCall(s, r, null, charge, traceId, spanId, promptContent, completionContent, noticeInjected);
    }

    private void llmCall(Session s, CallRecord r, List<BudgetState> budgets, ChargeResult charge, String traceId,
                         String spanId, String promptContent, String completionContent, boolean noticeInjected) {
        if (r == null) {
            report("null-record", "TokenGuard: session log: an llm_call without a call record was dropped"
                    + " (session " + (s == null ? null : s.id()) + ")");
            return;
        }
        LineEncoder encoder = takeEncoder();
        encoder.llmCall.set(r, budgets, charge, traceId, spanId, promptContent, completionContent, noticeInjected);
        append(s, "llm_call", false, encoder.llmCall, encoder);
    }

    /**
     * The fields of one {@code llm_call} line, kept by its {@link LineEncoder} and set again for each line: the
     * line is written without a lambda capturing the call's values. Cleared once the line is written.
     */
    static final class LlmCallFields implements Fields {
        private CallRecord r;
        private List<BudgetState> budgets;
        private ChargeResult charge;
        private String traceId;
        private String spanId;
        private String promptContent;
        private String completionContent;
        private boolean noticeInjected;

        void set(CallRecord r, List<BudgetState> budgets, ChargeResult charge, String traceId, String spanId,
                 String promptContent, String completionContent, boolean noticeInjected) {
            this.r = r;
            this.budgets = budgets;
            this.charge = charge;
            this.traceId = traceId;
            this.spanId = spanId;
            this.promptContent = promptContent;
            this.completionContent = completionContent;
            this.noticeInjected = noticeInjected;
        }

        void clear() {
            set(null, null, null, null, null, null, null, false);
        }

        @Override
        public void write(JsonLine g) throws IOException {
            g.writeStringField("provider", r.provider());
            g.writeStringField("operation", r.operation());
            g.writeStringField("request_model", r.requestModel());
            g.writeStringField("response_model", r.responseModel());
            writeNumber(g, "input_tokens", r.inputTokens());
            writeNumber(g, "output_tokens", r.outputTokens());
            if (r.inputTokens() == null && r.outputTokens() == null) { // as CallRecord.totalTokens(), unboxed
                g.writeNullField("total_tokens");
            } else {
                g.writeNumberField("total_tokens",
                        CallRecord.orZero(r.inputTokens()) + CallRecord.orZero(r.outputTokens()));
            }
            writeNumber(g, "cache_read_tokens", r.cacheReadTokens());
            writeNumber(g, "cache_write_tokens", r.cacheWriteTokens());
            writeNumber(g, "reasoning_tokens", r.reasoningTokens());
            g.writeNumberField("duration_ms", r.durationMillis());
            g.writeBooleanField("streaming", r.streaming());
            g.writeStringField("status", r.status());
            g.writeStringField("error_type", r.errorType());
            writeUsd(g, "cost_usd", r.costUsd());
            g.writeStringField("usage_source", r.usageSource() == null ? null : r.usageSource().wireName());
            g.writeArrayFieldStart("budget");
            if (charge != null) {
                for (int i = 0; i < charge.size(); i++) {
                    g.writeStartObject();
                    g.writeStringField("name", charge.name(i));
                    g.writeStringField("scope", charge.scopeKey(i));
                    g.writeNumberField("used", charge.used(i));
                    writeLimit(g, charge.limit(i));
                    g.writeEndObject();
                }
            } else if (budgets != null) {
                for (BudgetState b : budgets) {
                    if (b == null) {
                        continue;
                    }
                    g.writeStartObject();
                    g.writeStringField("name", b.name());
                    g.writeStringField("scope", b.scopeKey());
                    g.writeNumberField("used", b.used());
                    writeLimit(g, b.limit());
                    g.writeEndObject();
                }
            }
            g.writeEndArray();
            g.writeStringField("trace_id", traceId);
            g.writeStringField("span_id", spanId);
            g.writeStringField("call_site", r.callSite() == null ? null : r.callSite().toString());
            g.writeBooleanField("notice_injected", noticeInjected);
            if (promptContent != null) {
                g.writeStringField("prompt", truncate(promptContent));
            }
            if (completionContent != null) {
                g.writeStringField("completion", truncate(completionContent));
            }
        }
    }

    /** Event {@code budget_warning}: {@code budget}, {@code threshold}, {@code used}, {@code limit}. */
    public void budgetWarning(Session s, String budget, double threshold, long used, long limit) {
        budgetWarning(s, budget, threshold, used, limit, LimitKind.TOTAL_TOKENS);
    }

    /**
     * Event {@code budget_warning} for a limit of the given kind: token limits write whole tokens;
     * a cost limit writes {@code used} and {@code limit} in USD (the engine counts nano-USD) and
     * adds {@code "unit": "usd"}.
     */
    public void budgetWarning(Session s, String budget, double threshold, long used, long limit, LimitKind kind) {
        append(s, "budget_warning", false, g -> {
            g.writeStringField("budget", budget);
            writeNumber(g, "threshold", threshold);
            writeUsage(g, used, limit, kind);
        });
    }

    private void writeUsage(JsonLine g, long used, long limit, LimitKind kind) throws IOException {
        if (kind.isTokens()) {
            g.writeNumberField("used", used);
            writeLimit(g, limit);
        } else {
            g.writeNumberField("used", used / 1e9);
            g.writeNumberField("limit", limit / 1e9);
            g.writeStringField("unit", "usd");
        }
    }

    /** Event {@code budget_exceeded} for a refused call: {@code budget}, {@code used}, {@code limit}, {@code provider}, {@code request_model}. */
    public void budgetExceeded(Session s, String budget, long used, long limit, String provider, String requestModel) {
        budgetExceeded(s, budget, used, limit, LimitKind.TOTAL_TOKENS, provider, requestModel);
    }

    /** Event {@code budget_exceeded} for a limit of the given kind (see {@link #budgetWarning(Session, String, double, long, long, LimitKind)}). */
    public void budgetExceeded(Session s, String budget, long used, long limit, LimitKind kind, String provider,
                               String requestModel) {
        budgetExceeded(s, budget, used, limit, kind, provider, requestModel, null);
    }

    /** As above, with the refused call's {@code call_site} ({@code class.method:line}), written when known. */
    public void budgetExceeded(Session s, String budget, long used, long limit, LimitKind kind, String provider,
                               String requestModel, String callSite) {
        append(s, "budget_exceeded", false, g -> {
            g.writeStringField("budget", budget);
            writeUsage(g, used, limit, kind);
            g.writeStringField("provider", provider);
            g.writeStringField("request_model", requestModel);
            if (callSite != null) {
                g.writeStringField("call_site", callSite);
            }
        });
    }

    /**
     * Event {@code budget_changed}: a live change ({@code set} command, JMX): {@code budget}, {@code key},
     * {@code old} and {@code new} (the values as configuration text, null for none) and {@code by} (who asked, null
     * when unknown).
     */
    public void budgetChanged(Session s, String budget, String key, String oldValue, String newValue, String by) {
        append(s, "budget_changed", false, g -> {
            g.writeStringField("budget", budget);
            g.writeStringField("key", key);
            g.writeStringField("old", oldValue);
            g.writeStringField("new", newValue);
            g.writeStringField("by", by);
        });
    }

    /**
     * Event {@code session_end} with the session's totals, then closes the session's file.
     *
     * @param reason {@code thread_end}, {@code shutdown}, {@code window_reset} or {@code idle}
     */
    public void sessionEnd(Session s, String reason) {
        append(s, "session_end", true, g -> {
            g.writeStringField("reason", reason);
            long input = s.inputTokens();
            long output = s.outputTokens();
            g.writeNumberField("input_tokens", input);
            g.writeNumberField("output_tokens", output);
            g.writeNumberField("total_tokens", input + output);
            writeUsd(g, "cost_usd", s.costUsd());
        });
    }

    /** A listener that writes {@code session_start} and {@code session_end} as the budget engine reports them. */
    public SessionListener sessionListener() {
        return new SessionListener() {
            @Override
            public void sessionStarted(Session session) {
                sessionStart(session);
            }

            @Override
            public void sessionEnded(Session session, String reason) {
                sessionEnd(session, reason);
            }
        };
    }

    /**
     * Closes every open file. Writes no {@code session_end} (the budget engine does that). A line
     * written after this reopens its file in append mode.
     */
    @Override
    public void close() {
        for (SessionFile f : files.values()) {
            f.lock.lock();
            try {
                closeChannel(f);
            } finally {
                f.lock.unlock();
            }
        }
    }

    /** How many files are open right now (for tests and diagnostics). */
    int openFileCount() {
        synchronized (openFiles) {
            return openFiles.size();
        }
    }

    /**
     * The file name of a session's log: the id with every character outside {@code [A-Za-z0-9._-]}
     * (and a leading {@code .}) replaced by {@code _}, then {@code .jsonl}. When anything had to be
     * replaced or cut, or the id is empty, a hash of the whole id is appended ({@code -h} and 16 hex
     * digits), so that distinct ids keep distinct names; the name never exceeds
     * {@value #MAX_FILE_NAME_CHARS} characters and is never {@code .} or {@code ..}.
     */
    public static String fileNameFor(String sessionId) {
        String id = sessionId == null ? "" : sessionId;
        StringBuilder name = new StringBuilder(Math.min(id.length(), MAX_FILE_NAME_CHARS));
        boolean changed = id.isEmpty();
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || (c == '.' && i > 0);
            name.append(safe ? c : '_');
            changed |= !safe;
        }
        int maxPlain = MAX_FILE_NAME_CHARS - EXTENSION.length();
        if (!changed && name.length() <= maxPlain && !LOOKS_HASHED.matcher(name).matches()) {
            return name.append(EXTENSION).toString();
        }
        int maxPrefix = maxPlain - HASH_MARK.length() - HASH_HEX_CHARS;
        if (name.length() > maxPrefix) {
            name.setLength(maxPrefix);
        }
        return name.append(HASH_MARK).append(hash(id)).append(EXTENSION).toString();
    }

    // ---------------------------------------------------------------------------------------------

    /** Writes an event's own fields after the common ones. */
    @FunctionalInterface
    private interface Fields {
        void write(JsonLine g) throws IOException;
    }

    /** One session file: its lock, and its channel while open. */
    private static final class SessionFile {
        final Path path;
        final ReentrantLock lock = new ReentrantLock();
        /** Guarded by lock. */
        FileChannel channel;
        /** A write failed part-way: the next line starts with a newline. Guarded by lock. */
        boolean partialLine;
        /** session_end was written and the file dropped from the map. Guarded by lock. */
        boolean retired;

        SessionFile(Path path) {
            this.path = path;
        }
    }

    private void append(Session s, String event, boolean endSession, Fields fields) {
        append(s, event, endSession, fields, null);
    }

    /**
     * @param taken an encoder already taken for this line ({@code fields} may be its own), or null to take one;
     *              either way it is given back (or dropped after a failure) before this returns
     */
    private void append(Session s, String event, boolean endSession, Fields fields, LineEncoder taken) {
        if (s == null) {
            if (taken != null) {
                taken.llmCall.clear();
                giveBack(taken);
            }
            report("null-session", "TokenGuard: session log: a " + event + " event without a session was dropped");
            return;
        }
        LineEncoder encoder = taken;
        try {
            long now = clock.millis(); // epoch ms: no Instant per line
            boolean daily = settings.layout() == LogLayout.DAILY;
            String name = daily ? dailyFileName(now) : sessionFileName(s);
            boolean closeFile = endSession && !daily;
            while (true) {
                SessionFile f = files.computeIfAbsent(name, newFile);
                f.lock.lock();
                try {
                    if (f.retired) {
                        continue; // session_end raced us; a fresh entry serializes with any other writer
                    }
                    if (encoder == null) {
                        encoder = takeEncoder();
                    }
                    writeLine(f, s, now, event, fields, encoder);
                    if (closeFile) {
                        closeChannel(f);
                        f.retired = true;
                        files.remove(name, f);
                    }
                } finally {
                    f.lock.unlock();
                }
                break;
            }
            evictLeastRecentlyUsed();
            if (closeFile) {
                requestSweep(false);
            }
        } catch (RuntimeException e) {
            report("internal:" + e.getClass().getName(), "TokenGuard: session log: internal error writing "
                    + event + " (" + describe(e) + "); the line was dropped, the application is unaffected");
        } finally {
            if (encoder != null) {
                encoder.llmCall.clear();
                giveBack(encoder); // kept only when its last line was encoded whole
            }
        }
    }

    /** Called with f.lock held; {@code encoder} is given back by the caller. */
    private void writeLine(SessionFile f, Session s, long now, String event, Fields fields, LineEncoder encoder) {
        FileChannel channel;
        try {
            channel = openChannel(f);
        } catch (IOException e) {
            return; // reported by openChannel
        }
        try {
            encoder.encode(s, s.nextSeq(), now, event, fields);
        } catch (IOException e) {
            report("encode:" + e.getClass().getName(), "TokenGuard: session log: cannot encode a " + event
                    + " line (" + describe(e) + "); the line was dropped");
            return; // the encoder's generator may be half-way through a line: it is not reused
        }
        // (a RuntimeException leaves the same way, to append's report, and the encoder is not reused either)
        ByteBuffer buffer = encoder.line(f.partialLine);
        try {
            WholeLineAppend.append(channel, buffer);
            f.partialLine = false;
        } catch (IOException e) {
            // cut back to the last whole line unless even that failed
            f.partialLine |= e instanceof WholeLineAppend.TornLineException;
            IOException cause = e instanceof WholeLineAppend.TornLineException && e.getCause() instanceof IOException io
                    ? io : e;
            closeChannel(f);
            report("write:" + cause.getClass().getName(), "TokenGuard: session log: cannot write to " + f.path
                    + " (" + describe(cause) + "); lines are dropped until writing succeeds again");
        }
    }

    /** A free line encoder, or a new one when every kept one is in use. */
    private LineEncoder takeEncoder() {
        int n = encoders.length();
        int start = (int) (Thread.currentThread().getId() % n);
        for (int i = 0; i < n; i++) {
            int slot = (start + i) % n;
            LineEncoder e = encoders.get(slot);
            if (e != null && encoders.compareAndSet(slot, e, null)) {
                return e;
            }
        }
        return new LineEncoder();
    }

    /** Keeps {@code e} for a next line when a slot is free (else it is left to the garbage collector). */
    private void giveBack(LineEncoder e) {
        if (!e.reusable()) {
            return;
        }
        int n = encoders.length();
        int start = (int) (Thread.currentThread().getId() % n);
        for (int i = 0; i < n; i++) {
            if (encoders.compareAndSet((start + i) % n, null, e)) {
                return;
            }
        }
    }

    /** The session's file name ({@link #fileNameFor}), derived once per session. */
    private static String sessionFileName(Session s) {
        String name = s.logFileName();
        if (name == null) {
            name = fileNameFor(s.id());
            s.logFileName(name);
        }
        return name;
    }

    /** Called with f.lock held. */
    private FileChannel openChannel(SessionFile f) throws IOException {
        FileChannel channel = f.channel;
        if (channel == null || !channel.isOpen()) {
            ensureDir();
            try {
                try {
                    channel = openAppend(f.path);
                } catch (NoSuchFileException e) {
                    dirReady = false; // the directory went away: create it again, once
                    ensureDir();
                    channel = openAppend(f.path);
                }
            } catch (IOException e) {
                report("open:" + e.getClass().getName(), "TokenGuard: session log: cannot open " + f.path
                        + " for appending (" + describe(e) + "); lines are dropped until it can be opened");
                throw e;
            }
            f.channel = channel;
        }
        synchronized (openFiles) {
            openFiles.put(f, Boolean.TRUE); // also marks it most recently used
        }
        return channel;
    }

    private FileChannel openAppend(Path path) throws IOException {
        Set<OpenOption> options = Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND, LinkOption.NOFOLLOW_LINKS);
        if (posix) {
            FileAttribute<?> ownerOnly = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
            return FileChannel.open(path, options, ownerOnly);
        }
        return FileChannel.open(path, options);
    }

    private void ensureDir() throws IOException {
        if (dirReady) {
            return;
        }
        try {
            if (Files.exists(dir) && !Files.isDirectory(dir)) {
                throw new FileSystemException(dir.toString(), null, "exists but is not a directory");
            }
            if (!Files.isDirectory(dir)) {
                Path parent = dir.getParent();
                if (parent != null && !Files.isDirectory(parent)) {
                    Files.createDirectories(parent);
                }
                try {
                    if (posix) {
                        Files.createDirectory(dir,
                                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                    } else {
                        Files.createDirectory(dir);
                    }
                } catch (FileAlreadyExistsException e) {
                    if (!Files.isDirectory(dir)) {
                        throw e;
                    }
                }
            }
        } catch (IOException e) {
            report("dir:" + e.getClass().getName(), "TokenGuard: session log: cannot create the directory " + dir
                    + " (" + describe(e) + "); session-log lines are dropped until it exists;"
                    + " set tokenguard.session-log.dir to a writable directory");
            throw e;
        }
        dirReady = true;
    }

    /** Called with f.lock held. */
    private void closeChannel(SessionFile f) {
        FileChannel channel = f.channel;
        f.channel = null;
        synchronized (openFiles) {
            openFiles.remove(f);
        }
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                report("close:" + e.getClass().getName(), "TokenGuard: session log: cannot close " + f.path
                        + " (" + describe(e) + ")");
            }
        }
    }

    /**
     * The daily file of {@code now}'s UTC day. The first line of a new day closes the files of earlier days (a
     * line of an earlier day that comes later reopens its day's file) and starts a retention sweep.
     */
    private String dailyFileName(long nowMillis) {
        long day = Math.floorDiv(nowMillis, MILLIS_PER_DAY);
        DayFile current = currentDay;
        if (day == current.day()) {
            return current.name();
        }
        String dayName = DailyFileName.of(settings.service(), LocalDate.ofEpochDay(day), settings.process()).toString();
        if (day > current.day()) {
            synchronized (this) {
                if (day > currentDay.day()) {
                    currentDay = new DayFile(day, dayName);
                    rollFrom(dayName);
                }
            }
        }
        return dayName;
    }

    /** Closes and forgets every daily file but {@code keep}, then sweeps. */
    private void rollFrom(String keep) {
        boolean rolled = false;
        for (SessionFile f : files.values()) {
            String name = f.path.getFileName().toString();
            if (name.equals(keep)) {
                continue;
            }
            f.lock.lock();
            try {
                closeChannel(f);
                f.retired = true;
                files.remove(name, f);
                rolled = true;
            } finally {
                f.lock.unlock();
            }
        }
        if (rolled) {
            requestSweep(false);
        }
    }

    /**
     * Starts a retention sweep on a daemon thread unless one is running or one started less than
     * {@link #SWEEP_INTERVAL_MILLIS} ago ({@code force}: whatever the interval).
     */
    private void requestSweep(boolean force) {
        if (!retention.isBounded()) {
            return;
        }
        long now = clock.millis();
        long last = lastSweepStart;
        if (!force && last != Long.MIN_VALUE && now - last < SWEEP_INTERVAL_MILLIS) {
            return;
        }
        if (!sweeping.compareAndSet(false, true)) {
            return;
        }
        lastSweepStart = now;
        try {
            sweeps.execute(new Runnable() {
                @Override
                public void run() {
                    try {
                        retention.sweep();
                    } catch (RuntimeException | Error e) {
                        report("retention:" + e.getClass().getName(), "TokenGuard: session log: retention sweep of "
                                + dir + " failed (" + e + "); files are kept");
                    } finally {
                        sweeping.set(false);
                    }
                }
            });
        } catch (RuntimeException | Error e) {
            sweeping.set(false);
            report("retention-thread", "TokenGuard: session log: cannot start the retention sweep (" + e + ")");
        }
    }

    /** Closes least recently used files until at most MAX_OPEN_FILES are open. Called with no lock held. */
    private void evictLeastRecentlyUsed() {
        while (true) {
            SessionFile victim;
            synchronized (openFiles) {
                if (openFiles.size() <= MAX_OPEN_FILES) {
                    return;
                }
                victim = openFiles.keySet().iterator().next();
            }
            victim.lock.lock();
            try {
                closeChannel(victim); // removes it from openFiles, so the loop ends
            } finally {
                victim.lock.unlock();
            }
        }
    }

    private static void writeNumber(JsonLine g, String field, Long value) throws IOException {
        if (value == null) {
            g.writeNullField(field);
        } else {
            g.writeNumberField(field, value.longValue());
        }
    }

    private static void writeNumber(JsonLine g, String field, Double value) throws IOException {
        if (value == null || value.isNaN() || value.isInfinite()) {
            g.writeNullField(field);
        } else {
            g.writeNumberField(field, value.doubleValue());
        }
    }

    /**
     * A cost in USD, rounded to 12 decimal places and written in plain notation: a sum of prices carries binary
     * noise ({@code 7.937999999999998E-4}) that would otherwise reach the log; 12 places keep a thousandth of a
     * nano-dollar, finer than any price per token.
     */
    private static void writeUsd(JsonLine g, String field, Double value) throws IOException {
        if (value == null || value.isNaN() || value.isInfinite()) {
            g.writeNullField(field);
        } else {
            g.writeFieldName(field);
            double v = value;
            if (Math.abs(v) < 1e3) {
                char[] text = g.scratch();
                g.writeNumber(text, 0, usdChars(v, text));
            } else {
                g.writeNumber(usd(v));
            }
        }
    }

    /**
     * {@code value} rounded to 12 decimal places, in plain notation without trailing zeros. Written on every
     * {@code llm_call}, so costs below a thousand dollars are formatted from whole pico-dollars, without the
     * kilobyte a {@link BigDecimal} of the double allocates.
     */
    static String usd(double value) {
        if (Math.abs(value) < 1e3) {
            char[] text = new char[USD_CHARS];
            return new String(text, 0, usdChars(value, text));
        }
        BigDecimal rounded = new BigDecimal(value).setScale(12, RoundingMode.HALF_EVEN).stripTrailingZeros();
        return rounded.signum() == 0 ? "0" : rounded.toPlainString();
    }

    /** Enough for {@code -999.999999999999}. */
    private static final int USD_CHARS = 24;

    /**
     * Writes {@code value} (below a thousand in magnitude) as {@link #usd} does into {@code out} (at least
     * {@value #USD_CHARS} chars) and returns the number of chars: the whole pico-dollars, with no allocation.
     */
    static int usdChars(double value, char[] out) {
        long pico = Math.round(value * 1e12);
        if (pico == 0) {
            out[0] = '0';
            return 1;
        }
        int n = 0;
        if (pico < 0) {
            out[n++] = '-';
            pico = -pico;
        }
        n = digits(pico / PICO_PER_UNIT, out, n);
        long fraction = pico % PICO_PER_UNIT;
        if (fraction != 0) {
            out[n++] = '.';
            int end = n + 12;
            for (int i = end - 1; i >= n; i--) {
                out[i] = (char) ('0' + fraction % 10);
                fraction /= 10;
            }
            while (out[end - 1] == '0') {
                end--;
            }
            n = end;
        }
        return n;
    }

    /** Writes the decimal digits of {@code v >= 0} at {@code out[at]}; returns the index after them. */
    private static int digits(long v, char[] out, int at) {
        int len = 1;
        for (long rest = v / 10; rest != 0; rest /= 10) {
            len++;
        }
        for (int i = at + len - 1; i >= at; i--) {
            out[i] = (char) ('0' + v % 10);
            v /= 10;
        }
        return at + len;
    }

    private static final long PICO_PER_UNIT = 1_000_000_000_000L;

    /** A negative limit means the budget has no token limit: written as null. */
    private static void writeLimit(JsonLine g, long limit) throws IOException {
        if (limit < 0) {
            g.writeNullField("limit");
        } else {
            g.writeNumberField("limit", limit);
        }
    }

    static String truncate(String content) {
        if (content.length() <= MAX_CONTENT_CHARS) {
            return content;
        }
        int cut = MAX_CONTENT_CHARS;
        if (Character.isHighSurrogate(content.charAt(cut - 1)) && Character.isLowSurrogate(content.charAt(cut))) {
            cut--; // never split a surrogate pair
        }
        return content.substring(0, cut) + "...[truncated by TokenGuard: " + content.length() + " chars in total]";
    }

    private void report(String kind, String message) {
        if (reportedKinds.add(kind)) {
            try {
                errorReporter.accept(message);
            } catch (RuntimeException ignored) {
                // the reporter must not break the host either
            }
        }
    }

    private static String describe(Exception e) {
        return e.getMessage() == null ? e.getClass().getName() : e.getClass().getName() + ": " + e.getMessage();
    }

    private static String hash(String id) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
        byte[] chars = new byte[id.length() * 2]; // UTF-16 code units, so lone surrogates stay distinct
        for (int i = 0; i < id.length(); i++) {
            chars[2 * i] = (byte) (id.charAt(i) >>> 8);
            chars[2 * i + 1] = (byte) id.charAt(i);
        }
        byte[] digest = sha.digest(chars);
        StringBuilder hex = new StringBuilder(HASH_HEX_CHARS);
        for (int i = 0; i < HASH_HEX_CHARS / 2; i++) {
            hex.append(Character.forDigit((digest[i] >> 4) & 0xF, 16)).append(Character.forDigit(digest[i] & 0xF, 16));
        }
        return hex.toString();
    }

    /**
     * Encodes lines into one growing byte array that is kept from line to line ({@link JsonLine}). Byte 0 is kept
     * free for the newline that ends a partly written earlier line, so that a line is always written with one
     * write. One thread uses an encoder at a time; after a failure half-way through a line it is dropped, never
     * reused.
     */
    static final class LineEncoder {
        private static final int INITIAL = 1024;
        /** Kept lines grow the array up to this; a longer line (captured content) gets a larger one once. */
        private static final int KEEP_AT_MOST = 64 * 1024;

        private final JsonLine g = new JsonLine(INITIAL);
        private ByteBuffer view = ByteBuffer.wrap(g.bytes());
        private boolean clean = true;
        /** The fields of the {@code llm_call} line being written with this encoder (set and cleared per line). */
        final LlmCallFields llmCall = new LlmCallFields();
        /** {@code ts}: the text of the last second written, and that second (epoch seconds). */
        private final char[] ts = new char[24];
        private long tsSecond = Long.MIN_VALUE;

        void encode(Session s, long seq, long now, String event, Fields fields) throws IOException {
            clean = false;
            if (g.bytes().length > KEEP_AT_MOST) {
                g.replaceArray(INITIAL, 1);
            } else {
                g.reset(1);
            }
            g.writeStartObject();
            g.writeFieldName("ts");
            writeTimestamp(now);
            g.writeStringField("session", s.id());
            g.writeNumberField("seq", seq);
            g.writeStringField("event", event);
            fields.write(g);
            g.writeEndObject();
            g.writeRaw((byte) '\n');
            clean = true;
        }

        boolean reusable() {
            return clean;
        }

        /** The line just encoded, preceded by a newline when {@code afterPartialLine}. */
        ByteBuffer line(boolean afterPartialLine) {
            byte[] bytes = g.bytes();
            if (view.array() != bytes) {
                view = ByteBuffer.wrap(bytes);
            }
            int from = 1;
            if (afterPartialLine) {
                bytes[0] = '\n';
                from = 0;
            }
            view.limit(g.size()).position(from);
            return view;
        }

        /** {@code ts} as {@code uuuu-MM-dd'T'HH:mm:ss.SSS'Z'} (UTC); the date and time part is kept per second. */
        private void writeTimestamp(long epochMillis) throws IOException {
            long second = Math.floorDiv(epochMillis, 1000L);
            int year = 0;
            if (second != tsSecond) {
                LocalDate date = LocalDate.ofEpochDay(Math.floorDiv(second, 86_400L));
                year = date.getYear();
                if (year < 1000 || year > 9999) {
                    // four digits or more: the formatter's own rules
                    g.writeString(OddYears.TIMESTAMP.format(Instant.ofEpochMilli(epochMillis)));
                    return;
                }
                int secondOfDay = (int) Math.floorMod(second, 86_400L);
                two(0, year / 100);
                two(2, year % 100);
                ts[4] = '-';
                two(5, date.getMonthValue());
                ts[7] = '-';
                two(8, date.getDayOfMonth());
                ts[10] = 'T';
                two(11, secondOfDay / 3600);
                ts[13] = ':';
                two(14, secondOfDay / 60 % 60);
                ts[16] = ':';
                two(17, secondOfDay % 60);
                ts[19] = '.';
                ts[23] = 'Z';
                tsSecond = second;
            }
            int millis = (int) Math.floorMod(epochMillis, 1000L);
            ts[20] = (char) ('0' + millis / 100);
            ts[21] = (char) ('0' + millis / 10 % 10);
            ts[22] = (char) ('0' + millis % 10);
            g.writeString(ts, 0, ts.length);
        }

        private void two(int at, int value) {
            ts[at] = (char) ('0' + value / 10);
            ts[at + 1] = (char) ('0' + value % 10);
        }
    }
}
