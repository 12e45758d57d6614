package dev.tokenguard.api;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The API as an application sees it when no agent runs: inactive, empty, silent. */
class TokenGuardWithoutAgentTest {

    @Test
    void answersInactiveAndKnowsNoBudget() {
        assertFalse(TokenGuard.isActive());
        assertTrue(TokenGuard.budget().isEmpty());
        assertTrue(TokenGuard.budget("tenants").isEmpty());
        assertTrue(TokenGuard.budget(null).isEmpty());
    }

    @Test
    void aSubscriptionDeliversNothingAndClosesAnyNumberOfTimes() {
        List<UsageEvent> seen = new ArrayList<>();
        UsageSubscription subscription = TokenGuard.onUsage(seen::add);
        assertFalse(subscription.isActive());
        subscription.close();
        subscription.close();
        try (UsageSubscription again = TokenGuard.onUsage(seen::add)) {
            assertFalse(again.isActive());
        }
        assertEquals(List.of(), seen);
    }

    @Test
    void aNullListenerIsRefusedAtOnce() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> TokenGuard.onUsage(null));
        assertEquals("listener", e.getMessage());
    }
}
