package com.acme.tickets;

import dev.tokenguard.budget.BudgetEngine;
import dev.tokenguard.budget.BudgetSpec;
import dev.tokenguard.budget.ChargeResult;
import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.MdcSource;
import dev.tokenguard.budget.Refusal;
import dev.tokenguard.budget.ScopeSpec;
import dev.tokenguard.budget.Session;
import dev.tokenguard.budget.SessionListener;
import dev.tokenguard.core.CallRecord;
import dev.tokenguard.core.CallRequest;
import dev.tokenguard.core.CallerFrame;
import dev.tokenguard.core.CallerFrames;
import dev.tokenguard.core.Governor;
import dev.tokenguard.core.Telemetry;
import dev.tokenguard.instrumentation.Plugins;
import dev.tokenguard.instrumentation.SdkPlugin;
import org.fakesdk.client.FakeClient;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The call site is the application's frame, whatever SDK, JDK and agent frames lie between it and the governor.
 * This test lives in an application-like package on purpose: the agent's own packages are skipped.
 */
class CallerFramesTest {
    final List<CallRecord> records = new ArrayList<>();
    final Telemetry recording = new Telemetry() {
        @Override
        public SpanIds callFinished(CallRecord record, Session session, ChargeResult charge, Object parent) {
            records.add(record);
            return NO_SPAN;
        }

        @Override
        public SpanIds callRefused(CallRequest request, Session session, Refusal refusal, Object parent) {
            return NO_SPAN;
        }
    };

    Governor governor(CallerFrames frames) {
        BudgetEngine engine = new BudgetEngine(List.of(new BudgetSpec(BudgetSpec.DEFAULT_NAME, ScopeSpec.THREAD,
                1_000L, null, null, null, null, new double[0], EnforcementMode.ENFORCE)), Clock.systemUTC(),
                MdcSource.NONE, SessionListener.NONE);
        return new Governor(engine, null, recording, Clock.systemUTC(), new Governor.Settings(false, false, null,
                List.of(), null, frames));
    }

    /** The line of the caller of this method, read from a Throwable's stack trace (not a stack walk). */
    static int lineHere() {
        return new Throwable().getStackTrace()[1].getLineNumber();
    }

    static CallerFrames framesSkippingTheFakeSdk() {
        return CallerFrames.forSdks(List.of(FakeClient.MARKER));
    }

    /** The application's method: it calls the "SDK". */
    int summarize(FakeClient client) {
        int line = lineHere(); client.create(); // both on one line: the call site's line
        return line;
    }

    @Test
    void theCallSiteIsTheApplicationMethodBelowTheSdkJdkAndAgentFrames() {
        FakeClient client = new FakeClient(governor(framesSkippingTheFakeSdk()));
        int line = summarize(client);
        assertEquals(1, records.size());
        CallerFrame site = records.get(0).callSite();
        assertEquals("com.acme.tickets.CallerFramesTest", site.className());
        assertEquals("summarize", site.methodName());
        assertEquals(line, site.line());
        assertEquals("CallerFramesTest.java", site.fileName());
        assertEquals("com.acme.tickets.CallerFramesTest.summarize:" + line, site.toString());
        assertEquals("com.acme.tickets.CallerFramesTest.summarize", site.function());
    }

    @Test
    void withoutTheSdksPackageItsOwnFrameWouldBeTakenForTheApplications() {
        // the same call with a finder that does not know the fake SDK: the SDK's frame is the first non-JDK,
        // non-agent one (this is what the plugins' packages are for)
        FakeClient client = new FakeClient(governor(CallerFrames.forSdks(List.of())));
        summarize(client);
        assertEquals(1, records.size());
        assertEquals(FakeClient.class.getName(), records.get(0).callSite().className());
    }

    @Test
    void aThreadWithNoApplicationFrameHasNoCallSite() throws InterruptedException {
        AtomicReference<Object> found = new AtomicReference<>("not run");
        // java.lang.Thread.run, two of the SDK's lambdas, the SDK's task: no application frame at all
        Thread sdkOnly = new Thread(FakeClient.task(FakeClient.task(
                new org.fakesdk.client.FindOnRun(framesSkippingTheFakeSdk(), found))));
        sdkOnly.start();
        sdkOnly.join();
        assertNull(found.get(), "every frame is the JDK's or the SDK's");
    }

    @Test
    void callSitesAreOffWhenNoFinderIsGiven() {
        FakeClient client = new FakeClient(governor(null));
        summarize(client);
        assertEquals(1, records.size());
        assertNull(records.get(0).callSite());
    }

    @Test
    void everyPluginsSdkPackageIsSkippedAsAreTheAgentTheJdkAndGeneratedProxies() {
        List<String> markers = new ArrayList<>();
        for (SdkPlugin plugin : Plugins.ALL) {
            markers.add(plugin.markerClass());
        }
        List<String> skipped = CallerFrames.forSdks(markers).skipped();
        for (String prefix : List.of("com.openai.", "com.anthropic.", "okhttp3.", "org.springframework.",
                "dev.langchain4j.", "org.apache.", "software.amazon.", "com.azure.", "jdk.", "java.", "sun.",
                "dev.tokenguard.core.", "dev.tokenguard.instrumentation.", "dev.tokenguard.shaded.", "reactor.")) {
            assertTrue(skipped.contains(prefix), prefix + " in " + skipped);
        }
        assertEquals(skipped.size(), skipped.stream().distinct().count(), "no repeats: " + skipped);
        for (String app : List.of("dev.tokenguard.sample.", "dev.tokenguard.it.", "com.acme.")) {
            assertTrue(skipped.stream().noneMatch(app::startsWith), app + " is an application package: " + skipped);
        }
    }

    // two methods on one line: their calls of the SDK sit at the same line and the same bytecode offset
    int one(FakeClient f) { f.create(); return lineHere(); } int two(FakeClient f) { f.create(); return lineHere(); }

    @Test
    void theSameSiteIsOneFrameAndTwoMethodsOnOneLineAreTwo() {
        FakeClient client = new FakeClient(governor(framesSkippingTheFakeSdk()));
        int line = one(client);
        assertEquals(line, two(client));
        one(client);
        two(client);
        assertEquals(4, records.size());
        String prefix = "com.acme.tickets.CallerFramesTest.";
        assertEquals(prefix + "one:" + line, records.get(0).callSite().toString());
        assertEquals(prefix + "two:" + line, records.get(1).callSite().toString());
        assertEquals("one", records.get(2).callSite().methodName());
        assertEquals("two", records.get(3).callSite().methodName());
        assertSame(records.get(0).callSite(), records.get(2).callSite(), "found again: the frame found first");
        assertSame(records.get(1).callSite(), records.get(3).callSite(), "found again: the frame found first");
    }

    @Test
    void deeperAndShallowerSdkStacksEachFindTheApplicationFrame() {
        FakeClient client = new FakeClient(governor(framesSkippingTheFakeSdk()));
        int[] depths = {0, 3, 60, 1, 200, 0, 0, 7};
        List<Integer> lines = new ArrayList<>();
        for (int depth : depths) {
            lines.add(lineHere()); client.createThrough(depth); // both on one line: the call site's line
        }
        assertEquals(depths.length, records.size());
        for (int i = 0; i < depths.length; i++) {
            assertEquals("com.acme.tickets.CallerFramesTest.deeperAndShallowerSdkStacksEachFindTheApplicationFrame:"
                    + lines.get(i), records.get(i).callSite().toString(), "SDK depth " + depths[i]);
        }
    }

    @Test
    void aFrameFoundAheadIsTheOneTheGovernorTakes() {
        CallerFrames frames = framesSkippingTheFakeSdk();
        assertSame(CallerFrames.NOT_AHEAD, frames.takeAhead(), "nothing found ahead yet");
        FakeClient client = new FakeClient(governor(frames));
        int line = lineHere(); client.createFindingAhead(frames); // both on one line: the call site's line
        assertEquals(1, records.size());
        assertEquals("com.acme.tickets.CallerFramesTest.aFrameFoundAheadIsTheOneTheGovernorTakes:" + line,
                records.get(0).callSite().toString());
        assertSame(CallerFrames.NOT_AHEAD, frames.takeAhead(), "taken by the governor");

        int here = lineHere(); frames.findAhead(); // both on one line
        CallerFrame found = frames.takeAhead();
        assertEquals("com.acme.tickets.CallerFramesTest.aFrameFoundAheadIsTheOneTheGovernorTakes:" + here,
                found.toString());
        assertSame(CallerFrames.NOT_AHEAD, frames.takeAhead(), "taking clears it");
        frames.findAhead();
        frames.dropAhead();
        assertSame(CallerFrames.NOT_AHEAD, frames.takeAhead(), "dropped");
    }
}
