package dev.tokenguard.otel;

import java.time.Duration;
import java.util.Objects;

/**
 * How long the one flush at JVM exit may take, by what the endpoint has done so far: an endpoint that answers
 * gets the time a cold export needs on a busy machine, so its spans arrive; one that has not answered yet, or
 * is in trouble, gets a short deadline, so a dead endpoint never holds up the exit.
 *
 * @param answering       every sender's last export was answered with success (the warm-up's included)
 * @param notYetAnswered  no export has been answered or has failed yet
 * @param failing         the last export was refused, timed out or got a bad answer
 */
public record ExitFlush(Duration answering, Duration notYetAnswered, Duration failing) {
    public ExitFlush {
        Objects.requireNonNull(answering, "answering");
        Objects.requireNonNull(notYetAnswered, "notYetAnswered");
        Objects.requireNonNull(failing, "failing");
    }

    /** The same deadline whatever the endpoint did. */
    public static ExitFlush always(Duration deadline) {
        return new ExitFlush(deadline, deadline, deadline);
    }

    /** Every deadline shortened by {@code spent} (time already used), none below one millisecond. */
    public ExitFlush less(Duration spent) {
        return new ExitFlush(minus(answering, spent), minus(notYetAnswered, spent), minus(failing, spent));
    }

    Duration forHealth(ExportLedger.Health health) {
        return switch (health) {
            case ANSWERING -> answering;
            case NOT_YET_ANSWERED -> notYetAnswered;
            case FAILING -> failing;
        };
    }

    private static Duration minus(Duration deadline, Duration spent) {
        Duration left = deadline.minus(spent);
        return left.compareTo(Duration.ofMillis(1)) < 0 ? Duration.ofMillis(1) : left;
    }
}
