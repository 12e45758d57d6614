package dev.tokenguard.instrumentation.stainless;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenguard.core.TokenEstimator;
import dev.tokenguard.instrumentation.SdkObjects;

import java.io.OutputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.URI;
import java.util.List;

/**
 * Reads the request side of a Stainless SDK call: the model asked for, the base URL of the client
 * the service belongs to, the body as the SDK would send it, and a local estimate of its input tokens.
 */
public final class StainlessRequests {
    /**
     * Built on first use only (content capture, local estimates): creating an ObjectMapper loads some
     * 300 Jackson classes, which the common path never needs and which cost start-up time.
     */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    /**
     * jackson-core alone: what every call reads of its request is read with the streaming parser. Field names are
     * not canonicalized: a request is read once, and a parser with a symbol table makes a child table each time.
     * Made on first use: only calls whose reservation reads the prompt's text need it.
     */
    private static final class Streaming {
        static final JsonFactory FACTORY = JsonFactory.builder()
                .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).build();
    }
    private static final List<String> OUTPUT_CAP_FIELDS = List.of("max_completion_tokens", "max_tokens",
            "max_output_tokens");
    /** The accessors of {@link #OUTPUT_CAP_FIELDS}, in the same order. */
    private static final String[] OUTPUT_CAP_ACCESSORS = {"maxCompletionTokens", "maxTokens", "maxOutputTokens"};

    /**
     * The SDK's own JSON mapper with its {@code writeValueAsString} and {@code writeValue(OutputStream, Object)}, per
     * SDK object-mappers class name and loader. The first {@link #PLAIN_BODIES} bodies are counted through plain
     * reflection; the kept generators ({@link Counters}) are made for the bodies after them. Making them builds
     * method handles, whose adapters the JVM generates and compiles: work a JVM's first call should not wait for.
     */
    /** Bodies per SDK mapper counted through plain reflection before the kept generators are made. */
    public static final int PLAIN_BODIES = 16;

    private static final class SdkMapper {
        final Object mapper;
        final Method write;
        final Method writeTo;
        /** Bodies counted so far through {@link #writeTo}; racy, an estimate is enough. */
        private int plainCalls;
        /** The kept generators once made; {@link #NONE} when the mapper has not the methods they need. */
        private volatile Object counters;
        private static final Object NONE = new Object();

        SdkMapper(Object mapper) throws NoSuchMethodException {
            this.mapper = mapper;
            this.write = mapper.getClass().getMethod("writeValueAsString", Object.class);
            this.writeTo = mapper.getClass().getMethod("writeValue", OutputStream.class, Object.class);
        }

        /** The kept generators, or null while bodies are still counted the plain way (or for good). */
        Counters counters() {
            Object c = counters;
            if (c == null) {
                if (plainCalls < PLAIN_BODIES) {
                    plainCalls++;
                    return null;
                }
                synchronized (this) {
                    c = counters;
                    if (c == null) {
                        try {
                            c = new Counters(mapper);
                        } catch (ReflectiveOperationException | RuntimeException e) {
                            c = NONE; // a mapper without these methods: a new counting stream per request
                        }
                        counters = c;
                    }
                }
            }
            return c == NONE ? null : (Counters) c;
        }
    }

    /**
     * The SDK's own generators, each writing into a stream that only counts bytes, kept for the next request: a call
     * takes one, the SDK's mapper writes the body into it ({@code writeValue(JsonGenerator, Object)}) and the call
     * gives it back. A request thus makes no generator, I/O context, write contexts or stream of its own. At most
     * {@link #KEPT} are kept per mapper, taken and given back without locks; under more contention a call makes one
     * and drops it. A generator whose write failed is not given back (it may be half-way through a value).
     */
    private static final class Counters {
        static final int KEPT = Math.min(16, 2 * Runtime.getRuntime().availableProcessors());
        final Object factory;
        /** {@code (JsonFactory, OutputStream)JsonGenerator}, as {@code (Object, OutputStream)Object}. */
        final MethodHandle createGenerator;
        /** {@code mapper.writeValue(JsonGenerator, Object)}, as {@code (Object, Object, Object)void}. */
        final MethodHandle writeValue;
        /** {@code JsonGenerator.flush()}, as {@code (Object)void}. */
        final MethodHandle flush;
        /** {@code JsonGenerator.setRootValueSeparator(null)}, as {@code (Object, Object)Object}. */
        final MethodHandle setRootValueSeparator;
        /** Bodies in a row leaving state in a reused provider before a generator stops reusing one. */
        static final int STATEFUL_BODIES = 8;
        final java.util.concurrent.atomic.AtomicReferenceArray<Counter> kept =
                new java.util.concurrent.atomic.AtomicReferenceArray<>(KEPT);
        /** {@code JsonGenerator.setCodec(codec)}, as {@code (Object, Object)Object}. */
        final MethodHandle setCodec;
        /** One serializer provider per body instead of one per write, or null where not possible. */
        final OneProviderMapper oneProvider;
        final Object mapper;

        Counters(Object mapper) throws ReflectiveOperationException {
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            factory = mapper.getClass().getMethod("getFactory").invoke(mapper);
            Method create = factory.getClass().getMethod("createGenerator", OutputStream.class);
            Class<?> generator = create.getReturnType();
            createGenerator = lookup.unreflect(create).asType(MethodType.methodType(Object.class, Object.class,
                    OutputStream.class));
            writeValue = lookup.unreflect(mapper.getClass().getMethod("writeValue", generator, Object.class))
                    .asType(MethodType.methodType(void.class, Object.class, Object.class, Object.class));
            flush = lookup.unreflect(generator.getMethod("flush")).asType(MethodType.methodType(void.class,
                    Object.class));
            Method separator = oneArgument(generator, "setRootValueSeparator");
            setRootValueSeparator = lookup.unreflect(separator).asType(MethodType.methodType(Object.class,
                    Object.class, Object.class));
            Method codec = oneArgument(generator, "setCodec");
            setCodec = lookup.unreflect(codec).asType(MethodType.methodType(Object.class, Object.class, Object.class));
            this.mapper = mapper;
            oneProvider = OneProviderMapper.forMapper(mapper);
        }

        /** The public method {@code name} of {@code type} that takes one argument (the last one found). */
        private static Method oneArgument(Class<?> type, String name) throws NoSuchMethodException {
            Method found = null;
            for (Method m : type.getMethods()) {
                if (m.getName().equals(name) && m.getParameterCount() == 1) {
                    found = m;
                }
            }
            if (found == null) {
                throw new NoSuchMethodException(type.getName() + "." + name);
            }
            return found;
        }

        Counter take() throws Throwable {
            int start = (int) (Thread.currentThread().getId() % KEPT);
            for (int i = 0; i < KEPT; i++) {
                int slot = (start + i) % KEPT;
                Counter c = kept.get(slot);
                if (c != null && kept.compareAndSet(slot, c, null)) {
                    return c;
                }
            }
            Counter c = new Counter();
            c.generator = createGenerator.invokeExact(factory, (OutputStream) c);
            // values written one after another into one generator: nothing between them (else a space each)
            Object self = setRootValueSeparator.invokeExact(c.generator, (Object) null);
            if (oneProvider != null) {
                c.copy = oneProvider.copy(mapper);
                self = setCodec.invokeExact(c.generator, c.copy); // the SDK's members written with writeObject
            }
            return c;
        }

        void giveBack(Counter c) {
            int start = (int) (Thread.currentThread().getId() % KEPT);
            for (int i = 0; i < KEPT; i++) {
                if (kept.compareAndSet((start + i) % KEPT, null, c)) {
                    return;
                }
            }
        }

        /** The body's length in bytes as the mapper writes it. */
        long length(Object mapper, Object body) throws Throwable {
            Counter c = take();
            long length;
            if (c.copy != null) {
                oneProvider.use(mapper, c.copy, c.provider);
                length = write(c.copy, c, body);
                if (oneProvider.keepsNoState(c.provider)) {
                    c.stateful = 0;
                } else {
                    // the write touched object ids or per-call attributes (serializers made on a type's first write
                    // may), which a provider per write would not carry from one write to the next: counted again as
                    // the SDK writes it, and the next body gets a new provider; after a few such bodies in a row, the
                    // SDK's way for good on this generator
                    c.provider.provider = null;
                    Object self = setCodec.invokeExact(c.generator, mapper);
                    length = write(mapper, c, body);
                    if (++c.stateful < STATEFUL_BODIES) {
                        self = setCodec.invokeExact(c.generator, c.copy);
                    } else {
                        c.copy = null;
                    }
                }
            } else {
                length = write(mapper, c, body);
            }
            giveBack(c); // not reached when the write threw
            return length;
        }

        private long write(Object codec, Counter c, Object body) throws Throwable {
            long before = c.bytes;
            writeValue.invokeExact(codec, c.generator, body);
            flush.invokeExact(c.generator);
            return c.bytes - before;
        }
    }

    /** A byte count with the generator that writes into it, kept for the next request. */
    private static final class Counter extends ByteCount {
        Object generator;
        /** The generator's codec when one provider serves a body's writes ({@link OneProviderMapper}), or null. */
        Object copy;
        final OneProviderMapper.Provider provider = new OneProviderMapper.Provider();
        /** Bodies in a row whose write left state in the provider. */
        int stateful;
    }


    private static final ClassValue<java.util.concurrent.ConcurrentHashMap<String, SdkMapper>> SDK_MAPPERS =
            new ClassValue<>() {
                @Override
                protected java.util.concurrent.ConcurrentHashMap<String, SdkMapper> computeValue(Class<?> type) {
                    return new java.util.concurrent.ConcurrentHashMap<>(2);
                }
            };

    private static final ClassValue<Field> CLIENT_OPTIONS = new ClassValue<>() {
        @Override
        protected Field computeValue(Class<?> type) {
            try {
                Field f = type.getDeclaredField("clientOptions");
                f.setAccessible(true);
                return f;
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }
    };

    private StainlessRequests() {
    }

    /** The model a request asks for, or null. */
    public static String model(Object params) {
        return SdkObjects.text(params, "model");
    }

    /**
     * The base URL of the client a service belongs to ({@code clientOptions.baseUrl()}), or null where
     * the SDK version keeps it elsewhere: the server address is then left unknown, never guessed.
     */
    public static URI baseUrl(Object service) {
        return uri(baseUrlText(service));
    }

    /** The base URL of the client a service belongs to as the SDK keeps it (text), or null (see {@link #baseUrl}). */
    static String baseUrlText(Object service) {
        try {
            Field field = CLIENT_OPTIONS.get(service.getClass());
            if (field == null) {
                return null;
            }
            return SdkObjects.get(field.get(service), "baseUrl") instanceof String s ? s : null;
        } catch (IllegalAccessException | IllegalArgumentException e) {
            return null;
        }
    }

    /** A base URL's text as a URI; null for null. */
    static URI uri(String baseUrl) {
        try {
            return baseUrl == null ? null : URI.create(baseUrl);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The prompt of a request as JSON text (its {@code fields}), or null. */
    public static String promptText(StainlessSdk sdk, Object params, List<String> fields) {
        JsonNode body = body(sdk, params);
        if (body == null) {
            return null;
        }
        ObjectNode prompt = Json.MAPPER.createObjectNode();
        for (String field : fields) {
            if (body.has(field)) {
                prompt.set(field, body.get(field));
            }
        }
        return prompt.toString();
    }

    /** The request body as the SDK would send it, or null when it cannot be read. */
    static JsonNode body(StainlessSdk sdk, Object params) {
        String json = bodyJson(sdk, params);
        if (json == null) {
            return null;
        }
        try {
            return Json.MAPPER.readTree(json);
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    /** The request body as the JSON text the SDK would send, or null when it cannot be read. */
    static String bodyJson(StainlessSdk sdk, Object params) {
        try {
            Object body = SdkObjects.get(params, "_body");
            if (body == null) {
                return null;
            }
            SdkMapper m = sdkMapper(sdk, params.getClass());
            return (String) m.write.invoke(m.mapper, body);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }

    /**
     * The length in UTF-8 bytes of the request body as the SDK would send it, or -1 when it cannot be read. The SDK's
     * mapper writes it into a stream that only counts: no text is kept.
     */
    public static long bodyLength(StainlessSdk sdk, Object params) {
        try {
            Object body = SdkObjects.get(params, "_body");
            if (body == null) {
                return -1;
            }
            SdkMapper m = sdkMapper(sdk, params.getClass());
            Counters counters = m.counters();
            if (counters != null) {
                return counters.length(m.mapper, body);
            }
            ByteCount count = new ByteCount();
            m.writeTo.invoke(m.mapper, count, body);
            return count.bytes;
        } catch (Throwable e) { // the handle's invokeExact declares Throwable; anything it throws means unreadable
            if (e instanceof VirtualMachineError v && !(e instanceof StackOverflowError)) {
                throw v;
            }
            return -1;
        }
    }

    /** An output stream that keeps only the number of bytes written to it. */
    private static class ByteCount extends OutputStream {
        long bytes;

        @Override
        public void write(int b) {
            bytes++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            bytes += len;
        }
    }

    /**
     * A request's own output cap, read through its accessors ({@code maxCompletionTokens()}, {@code maxTokens()},
     * {@code maxOutputTokens()}): the first that is a positive number; null for none.
     */
    public static Long outputCap(Object params) {
        for (String accessor : OUTPUT_CAP_ACCESSORS) {
            Object value = SdkObjects.get(params, accessor);
            if (value instanceof Number n && n.longValue() > 0) {
                return n.longValue();
            }
        }
        return null;
    }

    /**
     * The SDK's mapper, looked up once per class loader (the params class stands for its SDK's loader) and SDK
     * (its core package).
     */
    private static SdkMapper sdkMapper(StainlessSdk sdk, Class<?> paramsType) throws ReflectiveOperationException {
        var bySdk = SDK_MAPPERS.get(paramsType);
        SdkMapper m = bySdk.get(sdk.corePackage());
        if (m == null) {
            Class<?> mappers = Class.forName(sdk.objectMappers(), false, paramsType.getClassLoader());
            m = new SdkMapper(mappers.getMethod("jsonMapper").invoke(null));
            bySdk.put(sdk.corePackage(), m);
        }
        return m;
    }

    /**
     * A local estimate of a request's input tokens: the text of its prompt fields, by the model's
     * encoding, plus a small per-message overhead. Null when the request cannot be read.
     */
    public static Long estimateInputTokens(StainlessSdk sdk, Object params, List<String> fields, String model) {
        JsonNode json = body(sdk, params);
        if (json == null) {
            return null;
        }
        StringBuilder text = new StringBuilder();
        int parts = 0;
        for (String field : fields) {
            JsonNode node = json.get(field);
            if (node != null) {
                parts += collectText(node, text);
            }
        }
        return TokenEstimator.estimate(model, text) + (long) TokenEstimator.PER_MESSAGE_OVERHEAD * parts;
    }

    /**
     * What a call reserves from its request before it is sent: the text of its prompt fields and its own output cap.
     *
     * @param text      the prompt's text, or null when the request cannot be read
     * @param outputCap {@code max_completion_tokens}, {@code max_tokens} or {@code max_output_tokens}; null for none
     */
    public record Reservable(String text, Long outputCap) {
    }

    /**
     * The text and output cap of a request; null when the request cannot be read. Read with jackson-core's streaming
     * parser (no tree, no databind): the text of the prompt fields in the order {@code fields} names them, each
     * string followed by a newline, leaving out {@code role}, {@code type} and {@code cache_control} members; the
     * cap is the first of {@code max_completion_tokens}, {@code max_tokens}, {@code max_output_tokens} that is a
     * positive number.
     */
    public static Reservable reservable(StainlessSdk sdk, Object params, List<String> fields) {
        String json = bodyJson(sdk, params);
        if (json == null) {
            return null;
        }
        StringBuilder[] texts = new StringBuilder[fields.size()];
        long[] caps = new long[OUTPUT_CAP_FIELDS.size()];
        try (JsonParser p = Streaming.FACTORY.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                int field = fields.indexOf(name);
                int cap = OUTPUT_CAP_FIELDS.indexOf(name);
                if (field >= 0) {
                    texts[field] = new StringBuilder();
                    collectText(p, texts[field]);
                } else if (cap >= 0 && value.isNumeric()) {
                    caps[cap] = outputCap(p);
                } else {
                    p.skipChildren();
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
        StringBuilder text;
        if (texts.length == 1) {
            text = texts[0] == null ? new StringBuilder() : texts[0];
        } else {
            text = new StringBuilder();
            for (StringBuilder t : texts) {
                if (t != null) {
                    text.append(t);
                }
            }
        }
        Long cap = null;
        for (long c : caps) {
            if (c > 0) {
                cap = c;
                break;
            }
        }
        return new Reservable(text.toString(), cap);
    }

    /** A numeric cap as a whole number of tokens (a fraction is cut, as JsonNode.asLong does); 0 when out of range. */
    private static long outputCap(JsonParser p) throws java.io.IOException {
        if (p.currentToken() == JsonToken.VALUE_NUMBER_INT) {
            return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? 0 : p.getLongValue();
        }
        double d = p.getDoubleValue();
        return d >= Long.MIN_VALUE && d <= Long.MAX_VALUE ? (long) d : 0;
    }

    /** The streaming form of {@link #collectText(JsonNode, StringBuilder)}, from the parser's current token. */
    private static void collectText(JsonParser p, StringBuilder text) throws java.io.IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_STRING) {
            text.append(p.getTextCharacters(), p.getTextOffset(), p.getTextLength()).append('\n');
        } else if (t == JsonToken.START_ARRAY) {
            while (p.nextToken() != JsonToken.END_ARRAY) {
                collectText(p, text);
            }
        } else if (t == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                p.nextToken();
                if (key.equals("role") || key.equals("type") || key.equals("cache_control")) {
                    p.skipChildren();
                } else {
                    collectText(p, text);
                }
            }
        }
    }

    private static int collectText(JsonNode node, StringBuilder text) {
        if (node.isTextual()) {
            text.append(node.asText()).append('\n');
            return 0;
        }
        int parts = 0;
        if (node.isArray()) {
            for (JsonNode element : node) {
                parts += element.isObject() ? 1 : 0;
                parts += collectText(element, text);
            }
        } else if (node.isObject()) {
            for (var it = node.fields(); it.hasNext(); ) {
                var entry = it.next();
                if (!entry.getKey().equals("role") && !entry.getKey().equals("type")
                        && !entry.getKey().equals("cache_control")) {
                    parts += collectText(entry.getValue(), text);
                }
            }
        }
        return parts;
    }
}
