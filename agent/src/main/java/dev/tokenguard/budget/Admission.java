package dev.tokenguard.budget;

/**
 * The decision on one call: admitted with its {@link Reservation}, or refused with the {@link Refusal} of an exhausted
 * budget. Exactly one of the two is set.
 */
public record Admission(Reservation reservation, Refusal refusal) {
    public boolean admitted() {
        return refusal == null;
    }
}
