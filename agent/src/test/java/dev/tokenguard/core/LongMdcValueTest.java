package dev.tokenguard.core;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.sessionlog.SessionLogWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An MDC value of 100,000 characters costs what a short one does: its first characters and a hash. */
class LongMdcValueTest {
    @TempDir
    Path dir;

    @Test
    void aLongMdcValueIsWrittenAsItsFirstCharactersAndAHash() throws Exception {
        String value = "user-" + "x".repeat(99_995);
        String other = "user-" + "x".repeat(99_994) + "y";
        String[] current = {value};
        SessionLogWriter log = new SessionLogWriter(dir, "test", 1, Clock.systemUTC(), line -> {
            throw new AssertionError(line);
        });
        BudgetEngine engine = new BudgetEngine(List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.mdc("user"),
                100_000L, null, null, null, null, new double[0], EnforcementMode.ENFORCE)), Clock.systemUTC(),
                key -> current[0], log.sessionListener());
        Governor governor = new Governor(engine, log, Telemetry.NONE, Clock.systemUTC());
        for (String v : List.of(value, value, value, other)) {
            current[0] = v;
            Object call = governor.begin(new CallRequest("openai", "chat", "gpt-4o", false, null, null));
            assertTrue(call instanceof LlmCall, String.valueOf(call));
            ((LlmCall) call).finish(new Usage(10L, 5L, null, null, null, "gpt-4o", "id", List.of(),
                    UsageSource.PROVIDER));
        }
        engine.close();
        log.close();

        byte[] digest = MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_16BE));
        String expectedKey = "mdc:user=" + value.substring(0, 48) + "~h" + HexFormat.of().formatHex(digest, 0, 8);
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.sorted().toList();
        }
        assertEquals(2, files.size(), files::toString);
        long total = 0;
        boolean found = false;
        for (Path f : files) {
            String text = Files.readString(f);
            total += text.length();
            found |= text.contains("\"" + expectedKey + "\"");
            assertTrue(!text.contains("x".repeat(49)), "no line carries more of the value than its first characters");
        }
        assertTrue(found, "the scope key is the value's first 48 characters and its hash: " + expectedKey);
        // 5 lines of the long value's session (start, 3 calls, end) and 3 of the other: a few KB, not 100s of KB
        assertTrue(total < 16_000, "session logs of " + total + " characters");
        assertNotEquals(files.get(0).getFileName(), files.get(1).getFileName());
    }
}
