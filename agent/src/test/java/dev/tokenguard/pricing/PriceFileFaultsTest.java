package dev.tokenguard.pricing;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A price file that is malformed, or that is not a price file at all but holds credentials (a wrong path is an easy
 * mistake): one line that names the file and the line, and never a credential from it.
 */
class PriceFileFaultsTest {
    static final String SECRET = "Ab12Cd34Ef56Gh78Ij90Kl12Mn34";

    @TempDir
    Path dir;

    String error(String name, String content) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, content, StandardCharsets.UTF_8);
        PricingException e = assertThrows(PricingException.class, () -> PriceTable.builtInWith(file));
        String m = e.getMessage();
        assertFalse(m.contains("\n") || m.contains("\r"), "one line: " + m);
        assertTrue(m.startsWith("tokenguard.pricing.file=" + file + ": "), m);
        return m;
    }

    @Test
    void aMalformedFileNamesItsLineAndColumn() throws Exception {
        String m = error("prices.json", "{\"models\": [\n  {\"pattern\": \"gpt-x\", \"input\": 1, \"output\": 2},\n"
                + "  {\"pattern\": \"gpt-y\" \"input\": 1}\n]}\n");
        assertTrue(m.contains(": not valid JSON at line 3, column "), m);
    }

    @Test
    void anEnvironmentFileGivenAsThePriceFileNeverShowsItsKey() throws Exception {
        String m = error("openai.env", "sk-proj-" + SECRET + "\nOPENAI_ORG=org-1\n");
        assertFalse(m.contains(SECRET), m);
        assertTrue(m.contains("not valid JSON at line 1"), m);
    }

    @Test
    void aCredentialWhereAPriceOrANameShouldBeIsNeverShown() throws Exception {
        String price = error("a.json", "{\"models\": [{\"pattern\": \"gpt-x\", \"input\": \"sk-ant-api03-" + SECRET
                + "\", \"output\": 1}]}");
        assertFalse(price.contains(SECRET), price);
        assertTrue(price.contains("(models[0].input): expected a price in USD per 1M tokens"), price);
        String provider = error("b.json", "{\"models\": [{\"pattern\": \"gpt-x\", \"provider\": \"AKIAIOSFODNN7EXAMPLE\","
                + " \"input\": 1, \"output\": 1}]}");
        assertFalse(provider.contains("IOSFODNN7EXAMPLE"), provider);
        assertTrue(provider.contains("***"), provider);
    }
}
