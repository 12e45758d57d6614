package org.fakesdk.client;

import dev.tokenguard.core.CallerFrames;

import java.util.concurrent.atomic.AtomicReference;

/** An SDK-side task that looks for the call site of its thread. */
public final class FindOnRun implements Runnable {
    private final CallerFrames frames;
    private final AtomicReference<Object> found;

    public FindOnRun(CallerFrames frames, AtomicReference<Object> found) {
        this.frames = frames;
        this.found = found;
    }

    @Override
    public void run() {
        found.set(frames.find());
    }
}
