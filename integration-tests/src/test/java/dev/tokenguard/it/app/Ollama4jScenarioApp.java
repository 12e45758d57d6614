package dev.tokenguard.it.app;

import dev.tokenguard.sample.scenarios.Ollama4jScenarios;

/**
 * The ollama4j scenarios ({@link Ollama4jScenarios}) as an application's main, for forked JVMs.
 *
 * <p>Arguments: {@code <scenario> <base URL> <calls>}.
 */
public final class Ollama4jScenarioApp {
    private Ollama4jScenarioApp() {
    }

    public static void main(String[] args) throws Exception {
        int status = 0;
        try {
            Ollama4jScenarios.run(args[0], args[1], Integer.parseInt(args[2]), System.out);
        } catch (Exception | Error e) {
            e.printStackTrace();
            status = 1;
        }
        System.out.flush();
        System.exit(status);
    }
}
