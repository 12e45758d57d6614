package dev.tokenguard.pricing;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Models served by Ollama are the user's own hardware: the built-in table prices none of them, not even the Llama,
 * Gemma or Mistral models whose hosted namesakes it prices on Bedrock or Gemini.
 */
class OllamaPricesTest {
    private final PriceTable table = PriceTable.builtIn();

    @Test
    void ollamaLibraryModelsAreUnpriced() {
        List<String> models = List.of("llama3.1", "llama3.1:8b", "llama3.1:70b-instruct-q4_K_M", "llama3.2",
                "llama3.2:latest", "llama3.3:70b", "llama4:scout", "llama4:maverick", "gemma3:4b", "mistral",
                "mistral-nemo", "qwen3:8b", "deepseek-r1:7b", "gpt-oss:20b", "phi4", "nomic-embed-text",
                "all-minilm", "mxbai-embed-large");
        assertEquals(18, models.size());
        for (String model : models) {
            assertNull(table.cost("ollama", model, 1000L, 100L, null, null, null), model);
        }
    }
}
