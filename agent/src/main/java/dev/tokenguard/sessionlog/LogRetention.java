package dev.tokenguard.sessionlog;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Keeps a session-log directory bounded ({@code tokenguard.session-log.max-age}, {@code max-total-size}): deletes
 * the {@code *.jsonl} files last written longer ago than the maximum age, then, while the directory's files
 * together are larger than the maximum total size, the least recently written ones. A file the writer holds open
 * is never deleted (it counts towards the total all the same), nor is anything but a regular {@code *.jsonl} file.
 *
 * <p>A sweep reads the directory's listing and attributes once; it runs on a background thread, never on the
 * call path. What one sweep deleted is reported in one line, nothing when it deleted nothing.
 */
public final class LogRetention {
    private final Path dir;
    private final Duration maxAge;
    private final long maxTotalBytes;
    private final Clock clock;
    private final Predicate<String> isOpen;
    private final Consumer<String> reporter;

    /**
     * @param dir           the session-log directory
     * @param maxAge        files last written longer ago are deleted; null for no age limit
     * @param maxTotalBytes the directory's files are kept below this many bytes; negative for no limit
     * @param clock         the time the age is measured against
     * @param isOpen        whether the writer holds the file of this name open
     * @param reporter      receives the one line of a sweep that deleted files, and failures
     */
    public LogRetention(Path dir, Duration maxAge, long maxTotalBytes, Clock clock, Predicate<String> isOpen,
                        Consumer<String> reporter) {
        this.dir = dir;
        this.maxAge = maxAge;
        this.maxTotalBytes = maxTotalBytes;
        this.clock = clock;
        this.isOpen = isOpen;
        this.reporter = reporter;
    }

    /** Whether this retention ever deletes anything. */
    public boolean isBounded() {
        return maxAge != null || maxTotalBytes >= 0;
    }

    /**
     * What one sweep did.
     *
     * @param deletedForAge  files deleted for being older than the maximum age
     * @param deletedForSize files deleted to bring the total under the maximum size
     * @param deletedBytes   their size
     * @param keptBytes      the size of the files left
     */
    public record Sweep(int deletedForAge, int deletedForSize, long deletedBytes, long keptBytes) {
        public int deleted() {
            return deletedForAge + deletedForSize;
        }
    }

    private record Entry(Path path, String name, long modifiedMillis, long size) {
    }

    /** By modification time, then name (a class of its own: no class spun at run time by the first sweep). */
    private static final Comparator<Entry> OLDEST_FIRST = new Comparator<>() {
        @Override
        public int compare(Entry a, Entry b) {
            int byTime = Long.compare(a.modifiedMillis(), b.modifiedMillis());
            return byTime != 0 ? byTime : a.name().compareTo(b.name());
        }
    };

    /** Runs one sweep now, on the calling thread. */
    public Sweep sweep() {
        if (!isBounded() || !Files.isDirectory(dir)) {
            return new Sweep(0, 0, 0, 0);
        }
        List<Entry> entries = new ArrayList<>();
        try (DirectoryStream<Path> list = Files.newDirectoryStream(dir, "*.jsonl")) {
            for (Path p : list) {
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    if (a.isRegularFile()) {
                        entries.add(new Entry(p, p.getFileName().toString(), a.lastModifiedTime().toMillis(), a.size()));
                    }
                } catch (NoSuchFileException gone) {
                    // deleted meanwhile
                }
            }
        } catch (IOException e) {
            reporter.accept("TokenGuard: session log: cannot list " + dir + " to apply its retention (" + e
                    + "); no file was deleted");
            return new Sweep(0, 0, 0, 0);
        }
        entries.sort(OLDEST_FIRST);
        long total = 0;
        for (Entry e : entries) {
            total += e.size;
        }
        int forAge = 0;
        int forSize = 0;
        long deletedBytes = 0;
        long oldestKept = maxAge == null ? Long.MIN_VALUE : clock.millis() - maxAge.toMillis();
        List<String> failures = new ArrayList<>();
        for (Entry e : entries) {
            boolean tooOld = e.modifiedMillis < oldestKept;
            boolean tooMuch = maxTotalBytes >= 0 && total > maxTotalBytes;
            if (!tooOld && !tooMuch) {
                break; // sorted by age: every later file is younger, and the total is within bounds
            }
            if (isOpen.test(e.name)) {
                continue;
            }
            try {
                Files.deleteIfExists(e.path);
            } catch (IOException ex) {
                failures.add(e.name + ": " + ex.getClass().getSimpleName());
                continue;
            }
            total -= e.size;
            deletedBytes += e.size;
            if (tooOld) {
                forAge++;
            } else {
                forSize++;
            }
        }
        Sweep sweep = new Sweep(forAge, forSize, deletedBytes, total);
        if (sweep.deleted() > 0 || !failures.isEmpty()) {
            reporter.accept(describe(sweep, failures));
        }
        return sweep;
    }

    private String describe(Sweep s, List<String> failures) {
        StringBuilder line = new StringBuilder("TokenGuard: session log: retention deleted ").append(s.deleted())
                .append(" file(s), ").append(bytes(s.deletedBytes())).append(", from ").append(dir).append(" (");
        line.append(s.deletedForAge()).append(" last written more than ")
                .append(maxAge == null ? "-" : age(maxAge)).append(" ago, ")
                .append(s.deletedForSize()).append(" to stay under ")
                .append(maxTotalBytes < 0 ? "-" : bytes(maxTotalBytes)).append("); ")
                .append(bytes(s.keptBytes())).append(" kept");
        if (!failures.isEmpty()) {
            line.append("; could not delete ").append(failures.size()).append(": ")
                    .append(String.join(", ", failures.subList(0, Math.min(3, failures.size()))));
        }
        return line.toString();
    }

    static String age(Duration d) {
        long minutes = d.toMinutes();
        if (minutes % (24 * 60) == 0) {
            return minutes / (24 * 60) + "d";
        }
        return minutes % 60 == 0 ? minutes / 60 + "h" : minutes + "m";
    }

    static String bytes(long n) {
        if (n < 10_000) {
            return n + " B";
        }
        if (n < 10_000_000) {
            return String.format(Locale.ROOT, "%.1f kB", n / 1e3);
        }
        if (n < 10_000_000_000L) {
            return String.format(Locale.ROOT, "%.1f MB", n / 1e6);
        }
        return String.format(Locale.ROOT, "%.1f GB", n / 1e9);
    }
}
