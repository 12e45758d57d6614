package dev.tokenguard.sessionlog;

import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The name of a file of the {@code daily} layout: {@code <service>.<yyyy-MM-dd>.<process>.jsonl}, e.g.
 * {@code ticket-service.2026-12-01.p4711-mivx2k9q.jsonl}: the service, the UTC day and the process that wrote it
 * ({@code p<pid>-<process start, epoch ms in base 36>}, which tells restarts apart even when a container gives every
 * process the same pid). The service is sanitized as a session id is ({@link SessionLogWriter#fileNameFor}), so the
 * name keeps to {@code [A-Za-z0-9._-]}. A file of the {@code session} layout never has this shape: session ids
 * always contain {@code ~}, so their names end with a hash ({@code -h<16 hex digits>.jsonl}).
 *
 * @param service the sanitized service, as it appears in the name
 * @param day     the UTC day of every line in the file
 * @param process {@code p<pid>-<start>}
 */
public record DailyFileName(String service, LocalDate day, String process) {
    private static final Pattern SHAPE =
            Pattern.compile("(.+)\\.([0-9]{4}-[0-9]{2}-[0-9]{2})\\.(p[0-9]+-[0-9a-z]+)\\.jsonl");

    /** The daily file of {@code service} (not yet sanitized) for {@code day} and {@code process}. */
    public static DailyFileName of(String service, LocalDate day, String process) {
        return new DailyFileName(safeService(service), day, process);
    }

    /** The name's parts, or null when {@code fileName} is not the name of a daily file. */
    public static DailyFileName parse(String fileName) {
        Matcher m = SHAPE.matcher(fileName);
        if (!m.matches()) {
            return null;
        }
        try {
            return new DailyFileName(m.group(1), LocalDate.parse(m.group(2)), m.group(3));
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** A service name as file names carry it: {@link SessionLogWriter#fileNameFor} without the extension. */
    public static String safeService(String service) {
        String name = SessionLogWriter.fileNameFor(service);
        return name.substring(0, name.length() - ".jsonl".length());
    }

    /**
     * This process as file names name it: {@code p<pid>-<start, epoch ms in base 36>}, the same pid and start as in
     * session ids.
     */
    public static String currentProcess() {
        long pid;
        long start;
        try {
            ProcessHandle self = ProcessHandle.current();
            pid = self.pid();
            Optional<Instant> started = self.info().startInstant();
            start = started.isPresent() ? started.get().toEpochMilli() : System.currentTimeMillis();
        } catch (RuntimeException e) {
            pid = 0;
            start = System.currentTimeMillis();
        }
        return "p" + pid + "-" + Long.toString(start, 36);
    }

    /** The file name. */
    @Override
    public String toString() {
        return service + "." + day + "." + process + ".jsonl";
    }
}
