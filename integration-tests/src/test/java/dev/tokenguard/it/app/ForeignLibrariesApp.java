package dev.tokenguard.it.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.implementation.FixedValue;
import net.bytebuddy.matcher.ElementMatchers;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An openai-java app that also uses its own Byte Buddy, Jackson, OkHttp, Kotlin and OpenTelemetry SDK, of whatever
 * versions its class path holds. It prints what each library made and which version it is, then one line per chat
 * call; its output must be the same with the agent as without.
 *
 * <p>Arguments: {@code <baseUrl> <calls>}.
 */
public final class ForeignLibrariesApp {

    private ForeignLibrariesApp() {
    }

    public static void main(String[] args) throws Exception {
        String baseUrl = args[0];
        int calls = Integer.parseInt(args[1]);

        Class<?> generated = new ByteBuddy().subclass(Object.class)
                .method(ElementMatchers.named("toString")).intercept(FixedValue.value("made by the app's Byte Buddy"))
                .make().load(ForeignLibrariesApp.class.getClassLoader()).getLoaded();
        Map<String, Object> made = new LinkedHashMap<>();
        made.put("bytebuddy", generated.getDeclaredConstructor().newInstance().toString());
        made.put("kotlin", kotlin.collections.CollectionsKt.joinToString(java.util.List.of("a", "b"), "+", "[", "]",
                -1, "...", null));
        ObjectMapper mapper = new ObjectMapper();
        String json = mapper.writeValueAsString(made);
        Map<?, ?> back = mapper.readValue(json, Map.class);

        System.out.println("LIB bytebuddy " + jarOf(ByteBuddy.class));
        System.out.println("LIB jackson " + mapper.version() + " " + jarOf(ObjectMapper.class));
        // read at run time: the constant would be the compile-time class path's
        System.out.println("LIB okhttp " + okhttp3.OkHttp.class.getField("VERSION").get(null) + " "
                + jarOf(okhttp3.OkHttpClient.class));
        System.out.println("LIB kotlin " + kotlin.KotlinVersion.CURRENT + " " + jarOf(kotlin.KotlinVersion.class));
        System.out.println("LIB otel-sdk " + jarOf(io.opentelemetry.sdk.OpenTelemetrySdk.class));
        System.out.println("MADE " + json + " " + back.equals(made));

        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(baseUrl).apiKey("sk-test-secret-key-123")
                .maxRetries(0).build();
        AppTracing.inAppSpan(() -> ScenarioApp.repeat(calls, i -> ScenarioApp.syncChat(client, i)));
        client.close();
    }

    private static String jarOf(Class<?> type) {
        String location = String.valueOf(type.getProtectionDomain().getCodeSource().getLocation());
        return location.substring(location.lastIndexOf('/') + 1);
    }
}
