package dev.tokenguard.instrumentation;

/**
 * Where a hook sits in a request's path. Where layers stack (a framework over an SDK, an SDK over an
 * HTTP client), one layer owns the physical request and the others stay out; the layer of each hook
 * is declared so that the rule can be applied without knowing the SDKs.
 */
public enum Layer {
    /** A framework over SDKs or HTTP clients (LangChain4j, Spring AI). */
    FRAMEWORK,
    /** A provider's SDK (openai-java, anthropic-java). */
    SDK,
    /** An HTTP client carrying a request to a known LLM endpoint. */
    HTTP
}
