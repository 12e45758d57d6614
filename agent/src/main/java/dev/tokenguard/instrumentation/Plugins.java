package dev.tokenguard.instrumentation;

import dev.tokenguard.instrumentation.anthropic.AnthropicPlugin;
import dev.tokenguard.instrumentation.apachehttp.ApacheHttpClientPlugin;
import dev.tokenguard.instrumentation.azure.AzureOpenAiPlugin;
import dev.tokenguard.instrumentation.bedrock.BedrockPlugin;
import dev.tokenguard.instrumentation.genai.GoogleGenAiPlugin;
import dev.tokenguard.instrumentation.jdkhttp.JdkHttpClientPlugin;
import dev.tokenguard.instrumentation.langchain4j.LangChain4jPlugin;
import dev.tokenguard.instrumentation.okhttp.OkHttpPlugin;
import dev.tokenguard.instrumentation.ollama.Ollama4jPlugin;
import dev.tokenguard.instrumentation.openai.OpenAiPlugin;
import dev.tokenguard.instrumentation.springai.SpringAiAnthropicPlugin;
import dev.tokenguard.instrumentation.springai.SpringAiOpenAiPlugin;
import dev.tokenguard.instrumentation.urlconnection.HttpUrlConnectionPlugin;

import java.util.List;

/**
 * Every SDK plugin the agent ships. The installer, the presence check and the configuration options
 * all read this one list: adding an SDK is a package of its own plus its line here.
 */
public final class Plugins {

    /** The plugins, in the order their start-up lines and options are listed. */
    public static final List<SdkPlugin> ALL = List.of(OpenAiPlugin.DECLARATION, AnthropicPlugin.DECLARATION,
            OkHttpPlugin.DECLARATION,
            JdkHttpClientPlugin.DECLARATION,
            SpringAiOpenAiPlugin.DECLARATION, SpringAiAnthropicPlugin.DECLARATION,
            LangChain4jPlugin.DECLARATION,
            ApacheHttpClientPlugin.DECLARATION,
            HttpUrlConnectionPlugin.DECLARATION,
            BedrockPlugin.DECLARATION,
            AzureOpenAiPlugin.DECLARATION,
            GoogleGenAiPlugin.DECLARATION,
            Ollama4jPlugin.DECLARATION);

    private Plugins() {
    }
}
