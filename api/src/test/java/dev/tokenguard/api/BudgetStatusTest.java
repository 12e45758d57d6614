package dev.tokenguard.api;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BudgetStatusTest {

    @Test
    void whatIsLeftIsTheLimitLessWhatIsUsedNeverBelowZero() {
        BudgetStatus half = new BudgetStatus("default", "global", 400, 1_000, 0.25, 1.0,
                Instant.parse("2026-01-01T01:00:00Z"));
        assertEquals(600, half.remainingTokens());
        assertEquals(0.75, half.remainingUsd());
        assertFalse(half.exhausted());

        BudgetStatus past = new BudgetStatus("default", "global", 1_040, 1_000, 0.0, -1, null);
        assertEquals(0, past.remainingTokens());
        assertTrue(past.exhausted());
    }

    @Test
    void withoutALimitNothingRunsOut() {
        BudgetStatus costOnly = new BudgetStatus("spend", "thread:main#1", 5_000, -1, 0.5, 2.0, null);
        assertEquals(Long.MAX_VALUE, costOnly.remainingTokens());
        assertEquals(1.5, costOnly.remainingUsd());
        assertFalse(costOnly.exhausted());

        BudgetStatus tokensOnly = new BudgetStatus("default", "global", 10, 100, 3.0, -1, null);
        assertEquals(Double.POSITIVE_INFINITY, tokensOnly.remainingUsd());
    }

    @Test
    void aCostLimitReachedExhaustsTheBudget() {
        BudgetStatus spent = new BudgetStatus("spend", "global", 5_000, -1, 2.0, 2.0, null);
        assertEquals(0.0, spent.remainingUsd());
        assertTrue(spent.exhausted());
    }
}
