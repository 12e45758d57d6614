package dev.tokenguard.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** README.md's configuration table is exactly {@link ConfigOptions#markdownTable()}. */
class ReadmeConfigTableTest {
    private static final String START = "<!-- config-table:start -->";
    private static final String END = "<!-- config-table:end -->";

    @Test
    void readmeHoldsTheGeneratedTable() throws Exception {
        // Maven runs tests in the module directory; the README is at the repository root.
        Path readme = Path.of("..", "README.md");
        assertTrue(Files.isRegularFile(readme), "no README.md at " + readme.toAbsolutePath().normalize());
        String text = Files.readString(readme).replace("\r\n", "\n");
        int start = text.indexOf(START);
        int end = text.indexOf(END);
        assertTrue(start >= 0 && end > start, "README.md needs the table between " + START + " and " + END);
        assertEquals(text.indexOf(START), text.lastIndexOf(START), "one table only");
        String table = text.substring(start + START.length(), end).strip() + "\n";
        assertEquals(ConfigOptions.markdownTable(), table,
                "README.md's configuration table is out of date; replace it with ConfigOptions.markdownTable()");
    }

    @Test
    void tableHasOneRowPerOptionIncludingNamedBudgetsAndConfigFile() {
        String table = ConfigOptions.markdownTable();
        String[] lines = table.split("\n");
        // the options a user can set, in the order the product's configuration table lists them
        List<String> keys = List.of("tokenguard.enabled", "tokenguard.mode", "tokenguard.budget.max-tokens",
                "tokenguard.budget.max-input-tokens", "tokenguard.budget.max-output-tokens",
                "tokenguard.budget.max-cost-usd", "tokenguard.budget.scope", "tokenguard.budget.window",
                "tokenguard.budget.warn-at", "tokenguard.budgets.<name>.<key>", "tokenguard.warnings.inject",
                "tokenguard.session-log.enabled", "tokenguard.session-log.dir", "tokenguard.session-log.capture-content",
                "tokenguard.pricing.file", "tokenguard.otel.enabled", "tokenguard.http.endpoints",
                "tokenguard.instrumentation.openai-java.enabled", "tokenguard.instrumentation.anthropic-java.enabled",
                "tokenguard.instrumentation.okhttp.enabled",
                "tokenguard.instrumentation.jdk-http-client.enabled",
                "tokenguard.instrumentation.spring-ai-openai.enabled",
                "tokenguard.instrumentation.spring-ai-anthropic.enabled",
                "tokenguard.instrumentation.langchain4j.enabled",
                "tokenguard.instrumentation.apache-httpclient5.enabled",
                "tokenguard.instrumentation.http-url-connection.enabled",
                "tokenguard.instrumentation.aws-bedrock.enabled",
                "tokenguard.instrumentation.azure-ai-openai.enabled",
                "tokenguard.instrumentation.google-genai.enabled",
                "tokenguard.instrumentation.ollama4j.enabled",
                "tokenguard.call-site.enabled", "tokenguard.otel.budget-scopes",
                "tokenguard.session-log.layout", "tokenguard.session-log.max-age",
                "tokenguard.session-log.max-total-size", "tokenguard.config.file",
                "tokenguard.budget.reserve-output", "tokenguard.budget.reserve-wait", "tokenguard.budget.idle-release",
                "tokenguard.store", "tokenguard.store.namespace", "tokenguard.store.timeout", "tokenguard.store.on-failure",
                "tokenguard.store.tls.ca-file");
        assertEquals(2 + keys.size(), lines.length, table);
        assertEquals("| key | default | expected form | meaning |", lines[0]);
        assertEquals("|---|---|---|---|", lines[1]);
        for (int i = 0; i < keys.size(); i++) {
            assertTrue(lines[2 + i].startsWith("| `" + keys.get(i) + "` | "), lines[2 + i]);
        }
        assertTrue(table.contains("| `tokenguard.budgets.<name>.<key>` |  |"));
        assertTrue(table.contains("| `tokenguard.config.file` | none |"));
        assertTrue(table.contains("| `tokenguard.budget.max-tokens` | `100000` |"));
        for (String line : lines) {
            assertEquals(6, line.split("(?<!\\\\)\\|", -1).length, "four columns: " + line);
        }
    }
}
