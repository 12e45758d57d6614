package dev.tokenguard.api;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class BudgetExhaustedExceptionTest {

    @Test
    void theMessageNamesBudgetScopeUseLimitAndTheRefusedCall() {
        BudgetExhaustedException e = new BudgetExhaustedException("default", "thread:worker-3", 100_512, 100_000,
                "openai chat gpt-4o");
        assertEquals("Token budget 'default' exhausted for scope thread:worker-3: 100,512 of 100,000 tokens used;"
                + " refused openai chat gpt-4o", e.getMessage());
        assertEquals(100_512, e.usedTokens());
        assertEquals(100_000, e.limitTokens());
    }

    @Test
    void aBudgetWithACostLimitOnlyIsNeverDescribedAsMinusOneTokens() {
        BudgetExhaustedException e = new BudgetExhaustedException("spend", "global", 238, -1,
                "openai chat gpt-4o (cost limit: $0.0021 of $0.0020 used)");
        assertEquals("Budget 'spend' exhausted for scope global: 238 tokens used (no token limit);"
                + " refused openai chat gpt-4o (cost limit: $0.0021 of $0.0020 used)", e.getMessage());
        assertEquals(-1, e.limitTokens());
    }
}
