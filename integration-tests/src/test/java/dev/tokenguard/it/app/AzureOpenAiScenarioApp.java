package dev.tokenguard.it.app;

import dev.tokenguard.sample.scenarios.AzureOpenAiScenarios;

/**
 * The Azure OpenAI scenarios ({@link AzureOpenAiScenarios}) as an application's main, for forked JVMs.
 *
 * <p>Arguments: {@code <scenario> <endpoint> <calls>}.
 */
public final class AzureOpenAiScenarioApp {
    private AzureOpenAiScenarioApp() {
    }

    public static void main(String[] args) throws Exception {
        int status = 0;
        try {
            AzureOpenAiScenarios.run(args[0], args[1], Integer.parseInt(args[2]), System.out);
        } catch (Exception | Error e) {
            e.printStackTrace();
            status = 1;
        }
        // azure-core's Netty event loops are not daemon threads: end the JVM as an app's main would
        System.out.flush();
        System.exit(status);
    }
}
