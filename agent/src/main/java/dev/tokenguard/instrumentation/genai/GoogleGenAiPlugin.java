package dev.tokenguard.instrumentation.genai;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;
import dev.tokenguard.instrumentation.CallSiteFactory;
import dev.tokenguard.instrumentation.Hook;
import dev.tokenguard.instrumentation.Layer;
import dev.tokenguard.instrumentation.Member;
import dev.tokenguard.instrumentation.SdkPlugin;
import dev.tokenguard.instrumentation.VersionRange;

import java.util.List;

import static dev.tokenguard.instrumentation.Member.field;
import static dev.tokenguard.instrumentation.Member.method;
import static dev.tokenguard.instrumentation.okhttp.OkHttpNames.okhttp;
import static dev.tokenguard.instrumentation.okhttp.OkHttpNames.okio;

/**
 * The Google GenAI SDK for Java ({@code com.google.genai:google-genai}), on the Gemini Developer API and on
 * Vertex AI. Every method of {@code Models} and {@code AsyncModels} (and the chats built on them) ends in one
 * call of {@code HttpApiClient.request} or {@code asyncRequest} per physical request, with the resource path
 * ({@code models/gemini-2.5-flash:generateContent}) and the JSON body as the SDK will send them: automatic
 * function calling calls it once per round trip, a streamed answer once per stream. That is where calls are
 * hooked, so each round trip is one charge. Token counting ({@code :countTokens}, {@code :computeTokens}) and
 * every other path (files, caches, batches, model listing) pass untouched: never charged, never refused.
 *
 * <p>The body is the Gemini API's wire JSON, so the request and the response go through the HTTP layer's
 * lifecycle ({@code HttpLlmCall}) and its Gemini usage reader: the usage is the last {@code usageMetadata} the
 * answer carries (a stream's last chunk holds the totals), the model the path's, the response model
 * {@code modelVersion}. The response's OkHttp body is observed as the SDK reads it. The provider is
 * {@code gcp.vertex_ai} for a client on Vertex AI, {@code gcp.gemini} otherwise.
 *
 * <p>The SDK sends over OkHttp, which the raw-HTTP layer also watches: the blocking and the async call both hand
 * the request to OkHttp ({@code execute()}, {@code enqueue()}) on the calling thread inside the hooked method,
 * which is marked as governed; and the SDK's requests carry its {@code x-goog-api-client} mark
 * ({@code google-genai-sdk/<version>}), which the HTTP layer leaves to this plugin while it is on. An async call
 * is refused when the app calls the SDK's method (on its thread and in its budget scope), not in the future.
 */
public final class GoogleGenAiPlugin {
    static final String CLIENT = "com.google.genai.HttpApiClient";
    static final String API_CLIENT = "com.google.genai.ApiClient";
    static final String RESPONSE = "com.google.genai.HttpApiResponse";
    static final String HTTP_OPTIONS = "com.google.genai.types.HttpOptions";

    /** The declaration. */
    public static final SdkPlugin DECLARATION = new SdkPlugin("google-genai", "gcp.gemini",
            "com.google.genai.Client", new VersionRange("1.58.0", "3"), List.of(
                    new Hook(CLIENT, List.of("request", "asyncRequest"), 4, Layer.SDK, Hook.Shape.ARGUMENTS,
                            new CallSites())),
            reads());

    private GoogleGenAiPlugin() {
    }

    private static List<Member> reads() {
        return List.of(method(API_CLIENT, "vertexAI", 0), method(API_CLIENT, "httpOptions", 0),
                method(HTTP_OPTIONS, "baseUrl", 0), field(RESPONSE, "response"),
                method(okhttp("Response"), "code", 0), method(okhttp("Response"), "body", 0),
                method(okhttp("Response"), "newBuilder", 0), method(okhttp("Response$Builder"), "body", 1),
                method(okhttp("Response$Builder"), "build", 0),
                method(okhttp("ResponseBody"), "source", 0), method(okhttp("ResponseBody"), "contentType", 0),
                method(okhttp("ResponseBody"), "contentLength", 0), method(okhttp("ResponseBody"), "create", 3),
                method(okio("Source"), "read", 2), method(okio("Buffer"), "readByteArray", 0),
                method(okio("Buffer"), "write", 3), method(okio("Okio"), "buffer", 1));
    }

    private static final class CallSites implements CallSiteFactory {
        @Override
        public CallSite create(String method, Governor governor) {
            return new GoogleGenAiCallSite(method.equals("asyncRequest"), governor);
        }
    }
}
