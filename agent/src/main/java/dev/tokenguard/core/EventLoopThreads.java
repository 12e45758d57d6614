package dev.tokenguard.core;

import java.util.Locale;

/**
 * Recognises threads that must never block: the event loops of Netty, Reactor (Netty), Vert.x and gRPC, and the
 * threads Reactor marks non-blocking. A call made on one is decided at once, never made to wait for calls in flight.
 *
 * <p>Reactor marks its non-blocking threads (its {@code parallel} and {@code single} schedulers, Reactor Netty's
 * event loops) with the interface {@code reactor.core.scheduler.NonBlocking}; it is looked up by name, so nothing
 * of Reactor is loaded. Netty's event-loop threads carry no marker of their own, only their factories' names:
 * {@code nioEventLoopGroup-2-1}, {@code epollEventLoopGroup-...}, {@code multiThreadIoEventLoopGroup-...},
 * Reactor Netty's {@code reactor-http-nio-3}, Vert.x's {@code vert.x-eventloop-thread-0}, gRPC's
 * {@code grpc-nio-worker-ELG-1-2}. Worker pools that may block (Tomcat's {@code http-nio-8080-exec-1}, Vert.x's
 * {@code vert.x-worker-thread-0}) do not match.
 */
public final class EventLoopThreads {
    static final String NON_BLOCKING = "reactor.core.scheduler.NonBlocking";

    private static final ClassValue<Boolean> MARKED = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            for (Class<?> c = type; c != null; c = c.getSuperclass()) {
                if (implementsMarker(c)) {
                    return true;
                }
            }
            return false;
        }
    };

    private EventLoopThreads() {
    }

    /** Whether {@code thread} is an event loop or otherwise marked non-blocking. */
    public static boolean isEventLoop(Thread thread) {
        if (MARKED.get(thread.getClass())) {
            return true;
        }
        return isEventLoopName(thread.getName());
    }

    static boolean isEventLoopName(String name) {
        if (name == null) {
            return false;
        }
        String n = name.toLowerCase(Locale.ROOT);
        return n.contains("eventloop") || n.contains("event-loop")
                || n.startsWith("reactor-http-") || n.startsWith("reactor-tcp-") || n.startsWith("reactor-udp-")
                || n.contains("-elg-");
    }

    private static boolean implementsMarker(Class<?> c) {
        for (Class<?> i : c.getInterfaces()) {
            if (i.getName().equals(NON_BLOCKING) || implementsMarker(i)) {
                return true;
            }
        }
        return false;
    }
}
