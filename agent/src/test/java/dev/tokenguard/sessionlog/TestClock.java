package dev.tokenguard.sessionlog;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that tests set by hand. */
public final class TestClock extends Clock {
    private final AtomicLong millis;

    public TestClock(String isoInstant) {
        this.millis = new AtomicLong(Instant.parse(isoInstant).toEpochMilli());
    }

    public void set(String isoInstant) {
        millis.set(Instant.parse(isoInstant).toEpochMilli());
    }

    @Override
    public long millis() {
        return millis.get();
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
