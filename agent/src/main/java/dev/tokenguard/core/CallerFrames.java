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

    /**
     * Reflection frames ({@code Method.invoke} and its accessors) are shown: they take a slot of a batch whether shown
     * or not, and counted they make {@link #batchFrames} the number of slots a walk really needs.
     */
    private static final StackWalker WALKER = StackWalker.getInstance(Set.of(
            StackWalker.Option.RETAIN_CLASS_REFERENCE, StackWalker.Option.SHOW_REFLECT_FRAMES));
    /**
     * The most frames a first batch is sized for. A walk materialises a frame object (on JDK 17 and its member name)
     * for every slot of its batches, used or not, and a walk that outgrows its first batch (8 slots by default) takes
     * a second one of twice its size; a first batch just as deep as the application frame makes one batch the rule.
     */
    private static final int LARGEST_BATCH = 64;
    /**
     * What a walker's estimated depth adds to the frames of its first batch. On JDK 17 the first batch is an array of
     * the estimate whose first 2 slots are the JDK's own ({@code StackStreamFactory}'s {@code START_POS}):
     * {@code depth} frames need an estimate of {@code depth + 2}, at least 8. On JDK 25 (and in JDK 21's update
     * sources) the array has the estimate plus 1 slot for the JDK: the estimate is the number of frames. Versions
     * before 22 are all taken for the first kind: where that is wrong, 2 slots stay unused; the other way round,
     * every walk would take a second batch.
     */
    static final int RESERVED_SLOTS = Runtime.version().feature() >= 22 ? 0 : 2;
    /** Walks that needed fewer frames in a row before the first batch shrinks to the deepest of them. */
    private static final int SHRINK_AFTER = 256;
    private static final StackWalker[] WALKERS = new StackWalker[LARGEST_BATCH + RESERVED_SLOTS + 1];

    private final List<String> skipped;
    private final ClassValue<Boolean> skips = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            return isSkipped(type.getName());
        }
    };
    /**
     * The frames of the next first batch of {@link #find()} and of {@link #findAhead()} (their walks start at
     * different depths): the deepest walk lately, up to the application frame.
     */
    private volatile int batchFrames;
    private volatile int aheadFrames;
    /** For each: walks in a row that needed fewer frames than the batch had, and the most any of them needed. */
    private final int[] findShallower = new int[2];
    private final int[] aheadShallower = new int[2];
    /** Not found ahead: {@link #takeAhead()} when {@link #findAhead()} was not called on the thread. */
    public static final CallerFrame NOT_AHEAD = CallerFrame.of("", "", null, -1);
    /** What {@link #findAhead()} found on each thread, until taken. */
    private final ThreadLocal<Ahead> ahead = new ThreadLocal<>() {
        @Override
        protected Ahead initialValue() {
            return new Ahead();
        }
    };

    /** One thread's frame found ahead and its walk function (one holder per thread: using it makes nothing). */
    private final class Ahead {
        CallerFrame frame = NOT_AHEAD;
        /** The thread's walk function, used again by each walk of the thread (a walk does not walk again). */
        final FirstAppFrame walk = new FirstAppFrame();
    }
    /** The call sites found so far, by the application frame's class: found again, a walk makes no new text. */
    private final ClassValue<Sites> sites = new ClassValue<>() {
        @Override
        protected Sites computeValue(Class<?> type) {
            return new Sites(type.getName());
        }
    };

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
        FirstAppFrame walk = ahead.get().walk.reset();
        StackWalker.StackFrame frame = walker(batchFrames).walk(walk); // from here: the walk's first frame is this one
        walk.found = null;
        batchFrames = sized(batchFrames, walk.depth, false);
        return frame == null ? null : site(frame);
    }

    /**
     * Finds the calling thread's first application frame now, for {@link #takeAhead()} on this thread. A plugin calls
     * it just before it begins the call: the walk starts that many frames nearer the application (the governor's own
     * frames are not in it), and each frame a walk passes costs a frame object. The frame found is the one
     * {@link #find()} would find later in the same call, since the frames between are the agent's own.
     */
    public void findAhead() {
        Ahead a = ahead.get();
        FirstAppFrame walk = a.walk.reset();
        StackWalker.StackFrame frame = walker(aheadFrames).walk(walk);
        walk.found = null;
        aheadFrames = sized(aheadFrames, walk.depth, true);
        a.frame = frame == null ? null : site(frame);
    }

    /**
     * What {@link #findAhead()} found on this thread since the last take or drop (null: no application frame), or
     * {@link #NOT_AHEAD} when it was not called; taking it clears it.
     */
    public CallerFrame takeAhead() {
        Ahead a = ahead.get();
        CallerFrame f = a.frame;
        a.frame = NOT_AHEAD;
        return f;
    }

    /** Forgets what {@link #findAhead()} found on this thread and was not taken (a call that did not begin). */
    public void dropAhead() {
        ahead.get().frame = NOT_AHEAD;
    }

    /** The call site of an application frame: the same instance for the same class, method and line. */
    private CallerFrame site(StackWalker.StackFrame frame) {
        // the line and the method's name from one StackTraceElement, whose names the JVM gives interned
        StackTraceElement element = frame.toStackTraceElement();
        return sites.get(frame.getDeclaringClass()).of(element.getMethodName(), element.getFileName(),
                element.getLineNumber());
    }

    /**
     * The frames of the next first batch after a walk that looked at {@code depth} frames with a first batch of
     * {@code frames}: at once a deeper walk's depth (a second batch costs twice the first), a shallower depth only
     * after {@link #SHRINK_AFTER} shallower walks in a row (call sites of other depths alternating keep the deepest).
     * Racy: a lost update only sizes a batch.
     */
    private int sized(int frames, int depth, boolean isAhead) {
        int[] s = isAhead ? aheadShallower : findShallower;
        if (depth > frames) {
            s[0] = 0;
            s[1] = 0;
            return depth;
        }
        if (depth == frames) {
            s[0] = 0;
            s[1] = 0;
            return frames;
        }
        s[1] = Math.max(s[1], depth);
        if (++s[0] < SHRINK_AFTER) {
            return frames;
        }
        int shrunk = s[1];
        s[0] = 0;
        s[1] = 0;
        return shrunk;
    }

    /** A walker whose first batch holds {@code frames} frames; the default one past the largest. */
    private static StackWalker walker(int frames) {
        if (frames <= 0 || frames > LARGEST_BATCH) { // deeper: batches of the default sizes allocate less than one more
            return WALKER;
        }
        int estimate = frames + RESERVED_SLOTS;
        StackWalker w = WALKERS[estimate];
        if (w == null) {
            w = StackWalker.getInstance(Set.of(StackWalker.Option.RETAIN_CLASS_REFERENCE,
                    StackWalker.Option.SHOW_REFLECT_FRAMES), estimate);
            WALKERS[estimate] = w; // racy: any thread's instance is as good
        }
        return w;
    }

    /**
     * The call sites of one class: each distinct method name and line once, with its text. Looked up by the method
     * name (the same interned string each time, so mostly compared by identity) and the line: the text is made of
     * the class, the method and the line alone, so a site found again is the one found first. Copied on write, at
     * most {@link #MOST} per class; past that a new frame is made per call.
     */
    static final class Sites {
        static final int MOST = 64;
        private final String className;
        private volatile CallerFrame[] known = new CallerFrame[0];

        Sites(String className) {
            this.className = className;
        }

        CallerFrame of(String methodName, String fileName, int line) {
            CallerFrame[] all = known;
            for (CallerFrame f : all) {
                if (f.line() == line && f.methodName().equals(methodName)
                        && java.util.Objects.equals(f.fileName(), fileName)) {
                    return f;
                }
            }
            CallerFrame made = CallerFrame.of(className, methodName, fileName, line);
            if (all.length < MOST) {
                synchronized (this) {
                    CallerFrame[] now = known;
                    for (int i = all.length; i < now.length; i++) { // another thread's, since the look above
                        CallerFrame f = now[i];
                        if (f.line() == line && f.methodName().equals(methodName)
                                && java.util.Objects.equals(f.fileName(), fileName)) {
                            return f;
                        }
                    }
                    if (now.length < MOST) {
                        CallerFrame[] more = java.util.Arrays.copyOf(now, now.length + 1);
                        more[now.length] = made;
                        known = more;
                    }
                }
            }
            return made;
        }
    }

    /**
     * The first frame that is not skipped, counting the frames looked at. It takes the frames one at a time from the
     * walk's own spliterator: no stream stages, sink or {@code Optional} per walk.
     */
    private final class FirstAppFrame implements Function<Stream<StackWalker.StackFrame>, StackWalker.StackFrame>,
            Consumer<StackWalker.StackFrame> {
        int depth;
        StackWalker.StackFrame found;

        FirstAppFrame reset() {
            depth = 0;
            found = null;
            return this;
        }

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
