package dev.tokenguard.it.app;

import dev.tokenguard.sample.scenarios.GoogleGenAiScenarios;

/**
 * The Google GenAI scenarios ({@link GoogleGenAiScenarios}) as an application's main, for forked JVMs.
 *
 * <p>Arguments: {@code <base URL> (<scenario> <calls>)...}: several scenarios run one after the other in one JVM,
 * each announced by a line {@code SCENARIO <name>} before its {@code OK} / {@code REFUSED} lines.
 */
public final class GoogleGenAiScenarioApp {
    private GoogleGenAiScenarioApp() {
    }

    public static void main(String[] args) throws Exception {
        int status = 0;
        try {
            for (int i = 1; i + 1 < args.length; i += 2) {
                System.out.println("SCENARIO " + args[i]);
                GoogleGenAiScenarios.run(args[i], args[0], Integer.parseInt(args[i + 1]), System.out);
            }
        } catch (Exception | Error e) {
            e.printStackTrace();
            status = 1;
        }
        // OkHttp's dispatcher and connection pool threads linger a while: end the JVM as an app's main would
        System.out.flush();
        System.exit(status);
    }
}
