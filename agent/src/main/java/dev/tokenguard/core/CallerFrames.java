package dev.tokenguard.core;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.Spliterator;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Finds a call's {@link CallerFrame}: walks the calling thread's stack once, from the innermost frame
 * outwards, and stops at the first frame that is not the agent's, the JDK's, or a known SDK's,
 * framework's or HTTP client's. The SDK packages come from the plugins' declarations (the agent passes
 * the marker class of each plugin of {@code Plugins.ALL}, whose first two package segments are skipped,
 * e.g. {@code com.openai.}), so a new
 * plugin needs no line here; the few frameworks that sit between an app and its SDK without a plugin of
 * their own (Reactor, Netty, Kotlin coroutines, generated proxies) are listed below.
 *
 * <p>Cheap: whether a class is skipped is decided once per class ({@link ClassValue}); the stack is walked
 * lazily, only as deep as the first application frame; the text is formatted only when written.
 */
public final class CallerFrames {
    /** The agent's own packages (its application classes, tests and samples live elsewhere). */
    static final List<String> AGENT_PACKAGES = List.of("dev.tokenguard.agent.", "dev.tokenguard.api.",
            "dev.tokenguard.bootstrap.", "dev.tokenguard.budget.", "dev.tokenguard.config.", "dev.tokenguard.core.",
            "dev.tokenguard.instrumentation.", "dev.tokenguard.jfr.", "dev.tokenguard.otel.",
            "dev.tokenguard.pricing.", "dev.tokenguard.sessionlog.", "dev.tokenguard.shaded.");
    /** The JDK, and the libraries that sit between an app and its SDK without a plugin of their own. */
    static final List<String> RUNTIME_PACKAGES = List.of("java.", "javax.", "jdk.", "sun.", "com.sun.",
            "kotlin.", "kotlinx.coroutines.", "scala.", "reactor.", "io.netty.", "io.opentelemetry.", "net.bytebuddy.",
            "org.reactivestreams.");

    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);
    /**
     * The largest first batch a {@link StackWalker} takes. A walk materialises a frame object (and its member name)
     * for every slot of its batches, and a walk that outgrows its first batch (8 frames by default) takes a second,
     * larger one; a first batch just deeper than the application frame was last found makes one batch the rule.
     */
    private static final int LARGEST_BATCH = 64;
    /** Frames past the application frame in the first batch, for the walk's own frames and a slightly deeper stack. */
    private static final int BATCH_MARGIN = 4;
    private static final StackWalker[] WALKERS = new StackWalker[LARGEST_BATCH + 1];

    private final List<String> skipped;
    private final ClassValue<Boolean> skips = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            return isSkipped(type.getName());
        }
    };
    /** How many frames the last walk looked at, up to the application frame: the next walk's first batch. */
    private volatile int lastDepth;

    /** @param skipped package prefixes whose frames are not the application's, e.g. {@code com.openai.} */
    public CallerFrames(List<String> skipped) {
        this.skipped = List.copyOf(skipped);
    }

    /**
     * The agent's, the JDK's and the runtime libraries' packages, and the root package of each SDK marker
     * class (each plugin's {@code markerClass}).
     */
    public static CallerFrames forSdks(List<String> markerClasses) {
        return new CallerFrames(defaultPackages(markerClasses));
    }

    /** The skipped package prefixes for SDKs with these marker classes, without repeats. */
    static List<String> defaultPackages(List<String> markerClasses) {
        Set<String> packages = new LinkedHashSet<>(AGENT_PACKAGES);
        packages.addAll(RUNTIME_PACKAGES);
        for (String marker : markerClasses) {
            String root = rootPackage(marker);
            if (root != null) {
                packages.add(root);
            }
        }
        return new ArrayList<>(packages);
    }

    /**
     * The first two segments of a class's package with a trailing dot ({@code com.openai.client.OpenAIClient}
     * → {@code com.openai.}), the one segment of a one-segment package ({@code okhttp3.}); null for a
     * class in no package.
     */
    static String rootPackage(String className) {
        int first = className.indexOf('.');
        if (first <= 0) {
            return null;
        }
        int second = first < 0 ? -1 : className.indexOf('.', first + 1);
        int lastDot = className.lastIndexOf('.');
        if (second < 0 || second > lastDot) {
            return className.substring(0, first + 1);
        }
        return className.substring(0, second + 1);
    }

    /** The prefixes skipped, in order. */
    public List<String> skipped() {
        return skipped;
    }

    boolean isSkipped(String className) {
        if (className.contains("$$")) { // generated proxies and subclasses (Spring CGLIB, Byte Buddy, Hibernate)
            return true;
        }
        for (String prefix : skipped) {
            if (className.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /** The calling thread's first application frame, or null when every frame is skipped. */
    public CallerFrame find() {
        FirstAppFrame walk = new FirstAppFrame();
        StackWalker.StackFrame frame = walker(lastDepth).walk(walk);
        lastDepth = walk.depth;
        return frame == null ? null : new CallerFrame(frame);
    }

    /** A walker whose first batch holds {@code depth} frames and the margin; the default one past the largest. */
    private static StackWalker walker(int depth) {
        int batch = depth + BATCH_MARGIN;
        if (depth <= 0 || batch > LARGEST_BATCH) { // deeper: batches of the default sizes allocate less than one more
            return WALKER;
        }
        StackWalker w = WALKERS[batch];
        if (w == null) {
            w = StackWalker.getInstance(Set.of(StackWalker.Option.RETAIN_CLASS_REFERENCE), batch);
            WALKERS[batch] = w; // racy: any thread's instance is as good
        }
        return w;
    }

    /**
     * The first frame that is not skipped, counting the frames looked at. It takes the frames one at a time from the
     * walk's own spliterator: no stream stages, sink or {@code Optional} per walk.
     */
    private final class FirstAppFrame implements Function<Stream<StackWalker.StackFrame>, StackWalker.StackFrame>,
            Consumer<StackWalker.StackFrame> {
        int depth;
        StackWalker.StackFrame found;

        @Override
        public StackWalker.StackFrame apply(Stream<StackWalker.StackFrame> frames) {
            Spliterator<StackWalker.StackFrame> each = frames.spliterator();
            while (found == null && each.tryAdvance(this)) {
                // accept looks at one frame
            }
            return found;
        }

        @Override
        public void accept(StackWalker.StackFrame f) {
            depth++;
            if (!skips.get(f.getDeclaringClass())) {
                found = f;
            }
        }
    }
}
