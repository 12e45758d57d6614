package dev.tokenguard.agent;

import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Layer;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.instrumentation.VersionRange;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CallSitesTest {

    /** A call site that only remembers which method it was made for. */
    private record Made(String method) implements CallSite {
        @Override
        public Object enter(Object target, Object request) {
            return null;
        }
    }

    @Test
    void aCallSiteIsMadeOnItsFirstCallOnlyAndThenReused() {
        List<String> made = new ArrayList<>();
        Hook hook = new Hook("com.example.Client", List.of("create", "stream"), 1, Layer.SDK, (method, governor) -> {
            made.add(method);
            return new Made(method);
        });
        SdkPlugin plugin = new SdkPlugin("example-sdk", "example", "com.example.Client", new VersionRange("1", "2"),
                List.of(hook), List.of());

        CallSites sites = new CallSites(List.of(plugin), null);
        assertTrue(made.isEmpty(), "no call site is made before a call reaches it");
        assertEquals(0, sites.madeCount());

        CallSite first = sites.get("com.example.Client.create");
        CallSite again = sites.get("com.example.Client.create");
        assertEquals(List.of("create"), made);
        assertSame(first, again);
        assertEquals(new Made("create"), first);
        assertEquals(1, sites.madeCount());

        assertNull(sites.get("com.example.Client.delete"), "a method no plugin hooks has no call site");
        assertNull(sites.get("com.example.Other.create"));
        assertEquals(List.of("create"), made);
    }

    @Test
    void noPluginMeansNoCallSite() {
        assertNull(CallSites.NONE.get("com.example.Client.create"));
        assertEquals(0, CallSites.NONE.madeCount());
    }
}
