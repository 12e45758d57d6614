package dev.tokenguard.instrumentation.stainless;

/**
 * One instrumented method of a Stainless SDK: which API it calls, and whether it streams and
 * whether it returns a future.
 */
public record StainlessSite(StainlessSdk sdk, StainlessApi api, boolean streaming, boolean async) {
}
