package dev.tokenguard.instrumentation;

import dev.tokenguard.instrumentation.okhttp.OkHttpNames;

import java.util.Set;

/**
 * The binary names of every class some plugin of {@link Plugins#ALL} instruments, written out so that
 * the transformer registered at JVM start-up knows them without loading a single plugin class.
 * {@code PluginTargetsTest} keeps this table equal to the plugins' own declarations.
 */
public final class PluginTargets {

    /** Every instrumented type, by binary name ({@code a.b.Outer$Inner}). */
    public static final Set<String> ALL = Set.of(
            // openai-java
            "com.openai.services.blocking.chat.ChatCompletionServiceImpl$WithRawResponseImpl",
            "com.openai.services.blocking.ResponseServiceImpl$WithRawResponseImpl",
            "com.openai.services.blocking.EmbeddingServiceImpl$WithRawResponseImpl",
            "com.openai.services.async.chat.ChatCompletionServiceAsyncImpl$WithRawResponseImpl",
            "com.openai.services.async.ResponseServiceAsyncImpl$WithRawResponseImpl",
            "com.openai.services.async.EmbeddingServiceAsyncImpl$WithRawResponseImpl",
            // anthropic-java
            "com.anthropic.services.blocking.MessageServiceImpl$WithRawResponseImpl",
            "com.anthropic.services.blocking.beta.MessageServiceImpl$WithRawResponseImpl",
            "com.anthropic.services.async.MessageServiceAsyncImpl$WithRawResponseImpl",
            "com.anthropic.services.async.beta.MessageServiceAsyncImpl$WithRawResponseImpl",
            // okhttp (built at run time: the agent jar's relocation rewrites string constants naming okhttp3)
            OkHttpNames.okhttp("internal.connection.RealCall"),
            // jdk-http-client
            "jdk.internal.net.http.HttpClientFacade",
            // spring-ai-openai, spring-ai-anthropic
            "org.springframework.ai.openai.api.OpenAiApi",
            "org.springframework.ai.anthropic.api.AnthropicApi",
            // langchain4j
            "dev.langchain4j.internal.RetryUtils$RetryPolicy",
            // apache-httpclient5
            "org.apache.hc.client5.http.impl.classic.InternalHttpClient",
            "org.apache.hc.client5.http.impl.classic.MinimalHttpClient",
            // http-url-connection
            "java.net.HttpURLConnection",
            "sun.net.www.protocol.http.HttpURLConnection",
            // aws-bedrock
            "software.amazon.awssdk.services.bedrockruntime.DefaultBedrockRuntimeClient",
            "software.amazon.awssdk.services.bedrockruntime.DefaultBedrockRuntimeAsyncClient",
            // azure-ai-openai
            "com.azure.ai.openai.implementation.OpenAIClientImpl",
            "com.azure.ai.openai.implementation.NonAzureOpenAIClientImpl",
            // google-genai
            "com.google.genai.HttpApiClient",
            // ollama4j
            "io.github.ollama4j.models.request.OllamaChatEndpointCaller",
            "io.github.ollama4j.models.request.OllamaGenerateEndpointCaller",
            "io.github.ollama4j.Ollama");

    private PluginTargets() {
    }
}
