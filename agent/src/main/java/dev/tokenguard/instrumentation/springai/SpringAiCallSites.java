package dev.tokenguard.instrumentation.springai;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.CallSiteFactory;

/** The call sites of one hook of a Spring AI client on {@code api}; {@code chatCompletionStream} streams. */
final class SpringAiCallSites implements CallSiteFactory {
    private final String plugin;
    private final String provider;
    private final SpringAiApi api;

    SpringAiCallSites(String plugin, String provider, SpringAiApi api) {
        this.plugin = plugin;
        this.provider = provider;
        this.api = api;
    }

    @Override
    public CallSite create(String method, Governor governor) {
        return new SpringAiCallSite(plugin, provider, api, method.equals("chatCompletionStream"), governor);
    }
}
