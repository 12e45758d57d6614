package dev.tokenguard.instrumentation.langchain4j;

import dev.langchain4j.internal.RetryUtils;
import dev.tokenguard.agent.AgentInstaller;
import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.core.GovernedThread;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.sessionlog.SessionLogWriter;
import net.bytebuddy.agent.ByteBuddyAgent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The langchain4j plugin in this JVM, on LangChain4j's real retry loop: a refusal ends the loop at
 * the first attempt and leaves it as itself; every other failure is retried as before; the loop
 * leaves the requests inside it to the layer below.
 */
class LangChain4jRetryTest {
    @TempDir
    Path dir;
    BudgetEngine engine;
    SessionLogWriter log;
    /** Two retries, 1 ms apart: up to three attempts. */
    final RetryUtils.RetryPolicy policy = RetryUtils.retryPolicyBuilder().maxRetries(2).delayMillis(1).build();

    @BeforeEach
    void install() {
        BudgetSpec spec = new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD, 1000L, null, null, null, null,
                new double[] {0.75, 0.9, 0.95}, EnforcementMode.ENFORCE);
        log = new SessionLogWriter(dir, "test", ProcessHandle.current().pid(), Clock.systemUTC(), line -> {
            throw new AssertionError(line);
        });
        engine = new BudgetEngine(List.of(spec), Clock.systemUTC(), MdcSource.NONE, log.sessionListener());
        AgentInstaller.install(new Governor(engine, log, Telemetry.NONE, Clock.systemUTC()), ByteBuddyAgent.install());
    }

    @AfterEach
    void stop() {
        engine.close();
        log.close();
    }

    static BudgetExhaustedException refusal() {
        return new BudgetExhaustedException("default", "thread:main#1", 1200, 1000, "openai chat gpt-4o-mini");
    }

    @Test
    void aRefusalEndsTheLoopAtTheFirstAttemptAndLeavesItAsItself() {
        BudgetExhaustedException refusal = refusal();
        AtomicInteger attempts = new AtomicInteger();
        BudgetExhaustedException thrown = assertThrows(BudgetExhaustedException.class, () -> policy.withRetry(() -> {
            attempts.incrementAndGet();
            throw refusal;
        }, 2));
        assertSame(refusal, thrown);
        assertEquals(1, attempts.get());
    }

    @Test
    void aRefusalTheClientWrappedEndsTheLoopToo() {
        BudgetExhaustedException refusal = refusal();
        AtomicInteger attempts = new AtomicInteger();
        BudgetExhaustedException thrown = assertThrows(BudgetExhaustedException.class,
                () -> RetryUtils.withRetryMappingExceptions(() -> {
                    attempts.incrementAndGet();
                    throw new RuntimeException(new IllegalStateException(refusal));
                }, 2));
        assertSame(refusal, thrown);
        assertEquals(1, attempts.get());
    }

    @Test
    void otherFailuresAreStillRetried() {
        AtomicInteger attempts = new AtomicInteger();
        IllegalStateException failure = new IllegalStateException("HTTP 500");
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> policy.withRetry(() -> {
            attempts.incrementAndGet();
            throw failure;
        }, 2));
        assertSame(failure, thrown);
        assertEquals(3, attempts.get());
    }

    @Test
    void aSuccessAfterAFailureReturnsItsValue() {
        AtomicInteger attempts = new AtomicInteger();
        String answer = policy.withRetry(() -> {
            if (attempts.incrementAndGet() == 1) {
                throw new IllegalStateException("HTTP 503");
            }
            return "answer";
        }, 2);
        assertEquals("answer", answer);
        assertEquals(2, attempts.get());
    }

    @Test
    void theLoopLeavesItsRequestsToTheLayerBelow() {
        List<Boolean> governed = new ArrayList<>();
        policy.withRetry(() -> governed.add(GovernedThread.active()), 2);
        assertEquals(List.of(false), governed);
        assertFalse(GovernedThread.active());
    }
}
