package dev.tokenguard.core;

import java.time.Duration;
import java.util.Objects;

/**
 * How calls reserve their expected tokens before they are admitted ({@code tokenguard.budget.reserve-output},
 * {@code tokenguard.budget.reserve-wait}).
 *
 * @param reserveOutput output tokens a call reserves when its request sets no output cap; {@link #OFF_OUTPUT} turns
 *                      reservation off (calls are then admitted while {@code used < limit}, as without it)
 * @param reserveWait   how long a call may wait for calls in flight to settle when their reservations cover what is
 *                      left; zero: never wait
 */
public record Reservations(long reserveOutput, Duration reserveWait) {
    /** {@link #reserveOutput} meaning: no reservation at all. */
    public static final long OFF_OUTPUT = -1;
    /** The defaults: 1,024 output tokens, 30 s. */
    public static final Reservations DEFAULT = new Reservations(1024, Duration.ofSeconds(30));
    /** Reservation off. */
    public static final Reservations OFF = new Reservations(OFF_OUTPUT, Duration.ZERO);

    public Reservations {
        Objects.requireNonNull(reserveWait, "reserveWait");
        if (reserveOutput < OFF_OUTPUT) {
            throw new IllegalArgumentException("reserve-output must be >= 0 or off; got " + reserveOutput);
        }
        if (reserveWait.isNegative()) {
            throw new IllegalArgumentException("reserve-wait must be >= 0; got " + reserveWait);
        }
    }

    public boolean on() {
        return reserveOutput != OFF_OUTPUT;
    }
}
