package org.fakesdk.client;

import dev.tokenguard.core.CallRequest;
import dev.tokenguard.core.CallerFrames;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.LlmCall;
import dev.tokenguard.core.Usage;
import dev.tokenguard.core.UsageSource;

import java.util.List;

/**
 * Stands in for an SDK in call-site tests: its frames (and a JDK stream between them) lie between the
 * application's frame and the governor, as a real SDK's do.
 */
public final class FakeClient {
    /** The marker class a plugin of this SDK would declare. */
    public static final String MARKER = FakeClient.class.getName();

    private final Governor governor;

    public FakeClient(Governor governor) {
        this.governor = governor;
    }

    /** Makes one governed call of 10 + 2 tokens, through a JDK stream as SDKs' internals often do. */
    public void create() {
        List.of("gpt-4o").stream().map(this::send).forEach(call -> call.finish(new Usage(10L, 2L, null, null, null,
                "gpt-4o", "id", List.of(), UsageSource.PROVIDER)));
    }

    private LlmCall send(String model) {
        Object call = governor.begin(new CallRequest("openai", "chat", model, false, null, null));
        if (call instanceof RuntimeException refused) {
            throw refused; // as the SDK advice does with a BudgetExhaustedException
        }
        return (LlmCall) call;
    }

    /** As {@link #create()}, with {@code depth} more frames of this SDK between the application and the governor. */
    public void createThrough(int depth) {
        if (depth == 0) {
            create();
        } else {
            createThrough(depth - 1);
        }
    }

    /** As {@link #create()}, the call site found ahead just before the call begins, as a plugin finds it. */
    public void createFindingAhead(CallerFrames frames) {
        frames.findAhead();
        try {
            create();
        } finally {
            frames.dropAhead();
        }
    }

    /** A runnable whose frames are all this SDK's, for a thread that has no application frame. */
    public static Runnable task(Runnable inner) {
        return () -> inner.run();
    }
}
