package dev.tokenguard.it.app;

import dev.tokenguard.sample.scenarios.AnthropicScenarios;

/**
 * The anthropic-java scenarios ({@link AnthropicScenarios}) as an application's main, for forked JVMs.
 *
 * <p>Arguments: {@code <scenario> <baseUrl> <calls>}.
 */
public final class AnthropicScenarioApp {
    private AnthropicScenarioApp() {
    }

    public static void main(String[] args) throws Exception {
        AnthropicScenarios.run(args[0], args[1], Integer.parseInt(args[2]), System.out);
    }
}
