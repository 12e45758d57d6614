package dev.tokenguard.instrumentation;

import org.junit.jupiter.api.Test;

import java.net.URI;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** What the agent learns of an endpoint from streams that did not ask for usage. */
class UnaskedStreamUsageTest {
    private final UnaskedStreamUsage usage = new UnaskedStreamUsage();

    @Test
    void anEndpointIsNamedByItsBaseUrl() {
        assertEquals("http://127.0.0.1:8080/v1", UnaskedStreamUsage.endpoint(URI.create("http://127.0.0.1:8080/v1/")));
        assertEquals("https://gateway.example:443/openai/v1",
                UnaskedStreamUsage.endpoint(URI.create("https://Gateway.example/openai/v1")));
        assertEquals("http://llm.internal:80", UnaskedStreamUsage.endpoint(URI.create("http://llm.internal")));
        assertNull(UnaskedStreamUsage.endpoint(null));
    }

    @Test
    void anUnknownEndpointIsProbedUntilAStreamRunsToItsEnd() {
        String gateway = "http://127.0.0.1:8080/v1";
        assertEquals(UnaskedStreamUsage.Plan.PROBE, usage.plan(gateway));
        usage.learn(gateway, false, false); // closed early or failed: nothing learnt
        assertEquals(UnaskedStreamUsage.Plan.PROBE, usage.plan(gateway));
        usage.learn(gateway, false, true);
        assertEquals(UnaskedStreamUsage.Plan.ASK_AND_HIDE, usage.plan(gateway));
        assertEquals(UnaskedStreamUsage.Plan.PROBE, usage.plan("http://127.0.0.1:8080/other/v1"),
                "another path of the same server is another endpoint");
    }

    @Test
    void aUsageChunkNobodyAskedForMarksTheEndpointForGood() {
        String gateway = "http://127.0.0.1:9090/v1";
        usage.learn(gateway, true, false);
        assertEquals(UnaskedStreamUsage.Plan.LEAVE, usage.plan(gateway));
        usage.learn(gateway, false, true); // a concurrent probe that saw none does not undo it
        assertEquals(UnaskedStreamUsage.Plan.LEAVE, usage.plan(gateway));
    }

    @Test
    void theProvidersOwnHostsAreNeverProbed() {
        assertEquals(UnaskedStreamUsage.Plan.ASK_AND_HIDE, usage.plan("https://api.openai.com:443/v1"));
        assertEquals(UnaskedStreamUsage.Plan.ASK_AND_HIDE,
                usage.plan("https://my-resource.openai.azure.com:443/openai/v1"));
        usage.learn("https://api.openai.com:443/v1", true, true);
        assertEquals(UnaskedStreamUsage.Plan.ASK_AND_HIDE, usage.plan("https://api.openai.com:443/v1"));
        assertEquals(UnaskedStreamUsage.Plan.ASK_AND_HIDE, usage.plan(null), "an endpoint that cannot be named");
    }
}
