package dev.tokenguard.instrumentation.springai;

import dev.tokenguard.api.BudgetExhaustedException;
import dev.tokenguard.core.AgentLog;
import dev.tokenguard.core.GovernedThread;
import dev.tokenguard.instrumentation.Callbacks;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The {@code Flux} a governed {@code chatCompletionStream} returns. Nothing is sent until the Flux
 * is subscribed, and each subscription sends the request again, so each subscription is one
 * physical request: the first is charged to the call begun (and checked against the budget) when
 * the method was called, each later one (an app's or a framework's {@code retry()}) begins a call of
 * its own, refused as the subscription's error signal once a budget is exhausted.
 *
 * <p>A subscription runs with the thread marked as inside a governed call ({@link GovernedThread}):
 * WebClient sends the request from within the subscription (whichever connector it runs on), so an
 * HTTP client the agent also watches (the JDK's {@code HttpClient} under {@code JdkClientHttpConnector})
 * leaves that request to this layer. The mark stays in the JVM; nothing is added on the wire.
 *
 * <p>The agent cannot link against Reactor, which lives in the app's class loader: the Flux is
 * built with Reactor's own operators, found by reflection, taking only JDK functional types; the
 * subscription is intercepted by a {@link Proxy} of Reactive Streams' {@code Publisher}, which
 * {@code Flux.from} turns back into a Flux (keeping the subscriber, and so the Reactor context).
 */
final class GovernedFlux implements InvocationHandler {
    private static final ClassValue<Optional<Operators>> OPERATORS = new ClassValue<>() {
        @Override
        protected Optional<Operators> computeValue(Class<?> type) {
            return Optional.ofNullable(Operators.find(type));
        }
    };

    private final Object source;
    private final Operators ops;
    private final SpringAiCall first;
    private final AtomicReference<SpringAiCall> unused;

    private GovernedFlux(Object source, Operators ops, SpringAiCall first) {
        this.source = source;
        this.ops = ops;
        this.first = first;
        this.unused = new AtomicReference<>(first);
    }

    /** The Flux the app gets instead of {@code flux}; {@code flux} itself when it cannot be governed. */
    static Object govern(Object flux, SpringAiCall call) {
        if (flux == null) {
            return null;
        }
        Operators ops = Callbacks.get(call.plugin() + ".flux", () -> OPERATORS.get(flux.getClass()).orElse(null),
                null);
        if (ops == null) {
            return flux;
        }
        return Callbacks.get(call.plugin() + ".flux", () -> {
            Object publisher = Proxy.newProxyInstance(ops.publisher.getClassLoader(), new Class<?>[] {ops.publisher},
                    new GovernedFlux(flux, ops, call));
            return ops.invoke(ops.from, null, publisher);
        }, flux);
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) {
        switch (method.getName()) {
            case "subscribe":
                if (args != null && args.length == 1) {
                    subscribe(args[0]);
                    return null;
                }
                break;
            case "hashCode":
                return System.identityHashCode(proxy);
            case "equals":
                return args != null && args.length == 1 && proxy == args[0];
            case "toString":
                return "TokenGuard-governed " + source;
            default:
                break;
        }
        throw new UnsupportedOperationException(method.getName());
    }

    /** One subscription, one request: governed, refused as the subscriber's error, or left alone. */
    private void subscribe(Object subscriber) {
        SpringAiCall call = unused.getAndSet(null);
        Object observed = source;
        if (call == null) {
            Object started = Callbacks.get(first.plugin() + ".resubscribe", first::again, null);
            if (started instanceof BudgetExhaustedException refusal) {
                ops.invoke(ops.subscribe, ops.invoke(ops.error, null, refusal), subscriber);
                return;
            }
            call = started instanceof SpringAiCall c ? c : null;
        }
        if (call != null) {
            SpringAiCall governed = call;
            observed = Callbacks.get(first.plugin() + ".flux", () -> observe(governed), source);
        }
        boolean marked = call != null && observed != source;
        if (marked) {
            GovernedThread.enter();
        }
        try {
            ops.invoke(ops.subscribe, observed, subscriber);
        } finally {
            if (marked) {
                GovernedThread.exit();
            }
        }
    }

    /** {@code source} with this subscription's elements and end watched for {@code call}. */
    private Object observe(SpringAiCall call) {
        SpringAiStream stream = call.newStream();
        String kind = call.plugin() + ".stream";
        Predicate<Object> shown = element -> Callbacks.get(kind, () -> stream.onElement(element), true);
        Runnable completed = () -> Callbacks.run(kind, () -> {
            stream.markCompleted();
            call.ended(stream, null);
        });
        Consumer<Throwable> failed = error -> Callbacks.run(kind, () -> call.ended(stream, error));
        Runnable cancelled = () -> Callbacks.run(kind, () -> call.ended(stream, null));
        Object flux = ops.invoke(ops.filter, source, shown);
        flux = ops.invoke(ops.doOnComplete, flux, completed);
        flux = ops.invoke(ops.doOnError, flux, failed);
        return ops.invoke(ops.doOnCancel, flux, cancelled);
    }

    /** Reactor's operators this class uses, looked up once per Flux class. */
    private record Operators(Class<?> publisher, Method from, Method error, Method subscribe, Method filter,
                             Method doOnComplete, Method doOnError, Method doOnCancel) {

        static Operators find(Class<?> fluxType) {
            try {
                ClassLoader loader = fluxType.getClassLoader();
                Class<?> flux = Class.forName("reactor.core.publisher.Flux", false, loader);
                if (!flux.isAssignableFrom(fluxType)) {
                    return null;
                }
                Class<?> publisher = Class.forName("org.reactivestreams.Publisher", false, loader);
                Class<?> subscriber = Class.forName("org.reactivestreams.Subscriber", false, loader);
                return new Operators(publisher, flux.getMethod("from", publisher),
                        flux.getMethod("error", Throwable.class), flux.getMethod("subscribe", subscriber),
                        flux.getMethod("filter", Predicate.class), flux.getMethod("doOnComplete", Runnable.class),
                        flux.getMethod("doOnError", Consumer.class), flux.getMethod("doOnCancel", Runnable.class));
            } catch (ClassNotFoundException | NoSuchMethodException | LinkageError e) {
                AgentLog.failure("spring-ai.flux", e);
                return null;
            }
        }

        /** Invokes a Reactor method; what it throws is rethrown unwrapped, as if called directly. */
        Object invoke(Method method, Object target, Object... args) {
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException r) {
                    throw r;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException(cause);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
