package dev.tokenguard.it.app;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;

/**
 * An app that makes a few chat calls with openai-java and exits, printing what it saw and how long each call
 * took: {@code OK <input> <output>} per call, {@code NANOS <call> <nanoseconds>} per call, and last
 * {@code LAST <epoch millis>} just before {@code main} returns, so that the test can tell how long the JVM took
 * to exit after the app's work was done.
 *
 * <p>Arguments: {@code <baseUrl> <calls>}.
 */
public final class ExporterTroubleApp {
    private ExporterTroubleApp() {
    }

    public static void main(String[] args) {
        String baseUrl = args[0];
        int calls = Integer.parseInt(args[1]);
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(baseUrl).apiKey("sk-test-secret-key-123")
                .maxRetries(0).build();
        StringBuilder timings = new StringBuilder();
        for (int i = 0; i < calls; i++) {
            long start = System.nanoTime();
            String usage = ScenarioApp.syncChat(client, i);
            long nanos = System.nanoTime() - start;
            System.out.println("OK " + usage);
            timings.append("NANOS ").append(i).append(' ').append(nanos).append('\n');
        }
        client.close();
        System.out.print(timings);
        System.out.println("LAST " + System.currentTimeMillis());
        System.out.flush();
    }
}
