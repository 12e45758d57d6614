package dev.tokenguard.instrumentation.springai;

import dev.tokenguard.instrumentation.Member;

import java.util.List;

import static dev.tokenguard.instrumentation.Member.method;

/** What the Spring AI plugins use of Spring's web types and of Reactor, read or called by reflection. */
final class SpringAiWeb {
    private static final String FLUX = "reactor.core.publisher.Flux";

    /** The members, for the presence check. */
    static final List<Member> READS = List.of(
            method("org.springframework.http.ResponseEntity", "getBody", 0),
            method(FLUX, "from", 1), method(FLUX, "error", 1), method(FLUX, "subscribe", 1),
            method(FLUX, "filter", 1), method(FLUX, "doOnComplete", 1), method(FLUX, "doOnError", 1),
            method(FLUX, "doOnCancel", 1));

    private SpringAiWeb() {
    }
}
