package dev.tokenguard.sessionlog;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Appends one encoded line so that a failed write leaves no part of it in the file.
 *
 * <p>A write can fail after part of the line reached the file: past a file-size limit ({@code ulimit -f}) the
 * kernel accepts the bytes up to the limit and refuses the rest with {@code EFBIG} (the JVM ignores the
 * {@code SIGXFSZ} that comes with it, so the process lives on); a full file system does the same with
 * {@code ENOSPC}. A reader would then meet a torn line in the middle of the file, and every later line would be
 * glued to it. So the file's length is taken before the write and, when the write fails, the file is cut back to
 * it: shrinking a file needs neither space nor room under the size limit.
 *
 * <p>Callers hold the file's lock and are its only writer in this process.
 */
final class WholeLineAppend {

    private WholeLineAppend() {
    }

    /**
     * Writes every remaining byte of {@code line} at the end of {@code channel} (opened for appending).
     *
     * @throws IOException         the write failed and the file was cut back to its length before the write
     * @throws TornLineException   the write failed and the file could not be cut back: part of the line may remain
     */
    static void append(FileChannel channel, ByteBuffer line) throws IOException {
        long before = channel.size();
        try {
            while (line.hasRemaining()) {
                channel.write(line);
            }
        } catch (IOException writeFailure) {
            try {
                if (channel.size() > before) {
                    channel.truncate(before);
                }
            } catch (IOException | RuntimeException cutFailure) {
                writeFailure.addSuppressed(cutFailure);
                throw new TornLineException(writeFailure);
            }
            throw writeFailure;
        }
    }

    /** A write failed part-way and the part written could not be removed; the cause is the write's failure. */
    static final class TornLineException extends IOException {
        private static final long serialVersionUID = 1L;

        TornLineException(IOException writeFailure) {
            super(writeFailure.getMessage(), writeFailure);
        }
    }
}
