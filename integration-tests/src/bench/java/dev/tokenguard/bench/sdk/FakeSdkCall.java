package dev.tokenguard.bench.sdk;

import dev.tokenguard.core.CallerFrame;
import dev.tokenguard.core.CallerFrames;

/**
 * Stands in for the SDK, HTTP-client and agent frames between an application's call and the moment the agent
 * looks for its call site: {@code depth} nested frames of this (skipped) package.
 */
public final class FakeSdkCall {
    private FakeSdkCall() {
    }

    public static CallerFrame call(CallerFrames frames, int depth) {
        return depth <= 0 ? frames.find() : call(frames, depth - 1);
    }
}
