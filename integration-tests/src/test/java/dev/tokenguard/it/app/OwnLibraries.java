package dev.tokenguard.it.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.implementation.FixedValue;
import net.bytebuddy.matcher.ElementMatchers;

import java.util.Map;

/** The app's own Byte Buddy (older than the agent's) and Jackson, used as an app would. */
final class OwnLibraries {

    private OwnLibraries() {
    }

    static void use() throws Exception {
        Class<?> generated = new ByteBuddy().subclass(Object.class)
                .method(ElementMatchers.named("toString")).intercept(FixedValue.value("made by the app's Byte Buddy"))
                .make().load(OwnLibraries.class.getClassLoader()).getLoaded();
        String made = generated.getDeclaredConstructor().newInstance().toString();
        ObjectMapper mapper = new ObjectMapper();
        String json = mapper.writeValueAsString(Map.of("made", made));
        System.out.println("LIBS bytebuddy=" + ByteBuddy.class.getProtectionDomain().getCodeSource().getLocation()
                + " jackson=" + mapper.version()
                + " jackson-jar=" + ObjectMapper.class.getProtectionDomain().getCodeSource().getLocation()
                + " json=" + json);
    }
}
