package dev.tokenguard.sessionlog;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HtmlUsageReportTest {

    @TempDir
    Path tmp;

    String render(Path logs) {
        UsageTotals totals = new UsageTotals();
        SessionLogReader.Scan scan = SessionLogReader.scanDir(logs, totals::add);
        return HtmlUsageReport.render(logs.toString(), totals, scan, Instant.parse("2026-12-01T00:00:00Z"));
    }

    static String call(String ts, String session, long tokens, String extra) {
        return "{\"ts\":\"" + ts + "\",\"session\":\"" + session + "\",\"seq\":2,\"event\":\"llm_call\",\"provider\":\"openai\","
                + "\"request_model\":\"gpt-4o\",\"input_tokens\":" + tokens + ",\"output_tokens\":0,\"total_tokens\":" + tokens
                + ",\"cost_usd\":null" + extra + "}";
    }

    @Test
    void hostileValuesAreEscapedInTheMarkup() throws IOException {
        HtmlReportFixture.write(tmp);
        String html = render(tmp);
        assertFalse(html.contains("<script"), "no script tag at all");
        assertFalse(html.contains("<img"), html);
        assertFalse(html.contains("<svg onload"), html);
        assertFalse(html.contains("\" onmouseover=\""), "no attribute breaks out of its quotes");
        assertTrue(html.contains("mdc:user=&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), html);
        assertTrue(html.contains("com.acme.Batch.run:7&quot; onmouseover=&quot;alert(3)"), html);
        assertFalse(html.contains("http:") || html.contains("https:") || html.contains("url("),
                "the page names no URL to load");
    }

    @Test
    void escapeReplacesMarkupControlCharactersAndLoneSurrogates() {
        assertEquals("&lt;a href=&quot;x&quot;&gt;&amp;&#39;", HtmlUsageReport.escape("<a href=\"x\">&'"));
        assertEquals("a\uFFFDb\uFFFDc\uFFFD\tok\n", HtmlUsageReport.escape("a\u0000b\u001bc\u0085\tok\n"));
        assertEquals("\uFFFDx\uD83D\uDE00", HtmlUsageReport.escape("\uD83Dx\uD83D\uDE00"));
    }

    @Test
    void longKeysAreCutWithAnEllipsis() {
        assertEquals("abc", HtmlUsageReport.cut("abc", 3));
        assertEquals("ab…", HtmlUsageReport.cut("abcd", 3));
        assertEquals("\uD83D\uDE00\uD83D\uDE00…", HtmlUsageReport.cut("\uD83D\uDE00".repeat(5), 3), "code points, not chars");
    }

    @Test
    void tablesShowTheTopRowsAndSumTheRestIntoOne() throws IOException {
        // 25 scopes; scope i has one call of 10 * i tokens: the top 20 are 60..250, the rest 10+20+30+40+50
        int scopes = HtmlUsageReport.TOP_SCOPES + 5;
        for (int i = 1; i <= scopes; i++) {
            Files.writeString(tmp.resolve("s" + i + ".jsonl"),
                    "{\"ts\":\"2026-11-30T09:00:00Z\",\"session\":\"s" + i + "\",\"seq\":1,\"event\":\"session_start\","
                            + "\"scope\":\"mdc:user=u" + i + "\"}\n" + call("2026-11-30T09:00:01Z", "s" + i, 10L * i, "") + "\n");
        }
        String section = section(render(tmp), "top-scopes");
        List<String> keys = groups(section, "<tr><td class=\"key\" title=\"[^\"]*\">([^<]*)</td>");
        assertEquals(HtmlUsageReport.TOP_SCOPES, keys.size(), section);
        for (int n = 0; n < keys.size(); n++) {
            assertEquals("mdc:user=u" + (scopes - n), keys.get(n), "row " + n + ": the most tokens first");
        }
        String rest = groups(section, "(<tr class=\"rest\">.*?</tr>)").get(0);
        assertTrue(rest.contains(">5 more scopes<"), rest);
        assertTrue(rest.contains("<td class=\"tokens\">150</td>"), rest);
        String total = groups(section, "(<tfoot>.*?</tfoot>)").get(0);
        assertTrue(total.contains("<td class=\"tokens\">3,250</td>"), "10 + 20 + ... + 250 = 3,250: " + total);
    }

    @Test
    void aCallWithoutCallSiteShowsADash() throws IOException {
        Files.writeString(tmp.resolve("a.jsonl"), call("2026-11-30T09:00:01Z", "a", 7, "") + "\n"
                + call("2026-11-30T09:00:02Z", "a", 9, ",\"call_site\":\"com.acme.A.run:3\"") + "\n");
        String section = section(render(tmp), "top-call-sites");
        assertEquals(List.of("com.acme.A.run:3", "—"),
                groups(section, "<tr><td class=\"key\" title=\"[^\"]*\">([^<]*)</td>"));
    }

    @Test
    void theSpanDecidesHourDayWeekOrMonth() {
        long day = 20_000L * 24; // an epoch hour at midnight UTC
        assertEquals(SpendTimeline.Granularity.HOUR, SpendTimeline.granularity(day, day));
        assertEquals(SpendTimeline.Granularity.HOUR, SpendTimeline.granularity(day, day + 71), "72 hours");
        assertEquals(SpendTimeline.Granularity.DAY, SpendTimeline.granularity(day, day + 72), "73 hours");
        assertEquals(SpendTimeline.Granularity.DAY, SpendTimeline.granularity(day, day + 119 * 24), "120 days");
        assertEquals(SpendTimeline.Granularity.WEEK, SpendTimeline.granularity(day, day + 120 * 24), "121 days");
        assertEquals(SpendTimeline.Granularity.MONTH, SpendTimeline.granularity(day, day + 3 * 365 * 24), "three years");
    }

    @Test
    void tenDaysOfCallsAreDrawnPerDay() throws IOException {
        Files.writeString(tmp.resolve("a.jsonl"), call("2026-11-01T23:59:00Z", "a", 100, "") + "\n"
                + call("2026-11-02T00:01:00Z", "a", 20, "") + "\n" + call("2026-11-10T12:00:00Z", "a", 3, "") + "\n");
        String html = render(tmp);
        String chart = section(html, "timeline");
        assertTrue(chart.contains("data-granularity=\"day\""), chart);
        assertEquals(List.of("100", "20", "3"), groups(chart.substring(0, chart.indexOf("id=\"chart-cost\"")),
                "<rect class=\"bar\"[^>]* data-value=\"([^\"]+)\""), "one bar per day: Nov 1, Nov 2, Nov 10");
        assertTrue(chart.contains(">11-01<") || chart.contains(">2026-11-01<"), "the first day is labelled");
    }

    @Test
    void aLogWithoutTimesHasTablesButNoCharts() throws IOException {
        Files.writeString(tmp.resolve("a.jsonl"), "{\"session\":\"a\",\"event\":\"llm_call\",\"provider\":\"openai\","
                + "\"request_model\":\"m\",\"input_tokens\":4,\"output_tokens\":1,\"total_tokens\":5,\"ts\":\"yesterday\"}\n"
                + call("+1000000000-12-31T00:00:00Z", "a", 2, "") + "\n");
        String html = render(tmp);
        assertFalse(html.contains("<svg class=\"chart\""), html);
        assertTrue(html.contains("No call, warning or refusal with a time in this log."), html);
        assertTrue(html.contains("Calls, warnings and refusals without a readable time: 2"), html);
        assertTrue(section(html, "by-model").contains("<td class=\"tokens\">7</td>"), "5 + 2 tokens: " + html);
    }

    @Test
    void anUnwritableHtmlFileExitsTwoNamingIt() throws IOException {
        HtmlReportFixture.write(tmp.resolve("logs"));
        Path html = tmp.resolve("no-such-dir").resolve("usage.html");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = UsageReport.run(tmp.resolve("logs"), html, new PrintStream(new ByteArrayOutputStream(), true,
                StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, code);
        String message = err.toString(StandardCharsets.UTF_8);
        assertTrue(message.contains("cannot write the HTML report to " + html), message);
    }

    @Test
    void usdIsWrittenWithThePrecisionItsSizeNeeds() {
        assertEquals("$0.00", HtmlUsageReport.usd(0));
        assertEquals("$0.0045", HtmlUsageReport.usd(0.0045));
        assertEquals("$0.012345", HtmlUsageReport.usd(0.012345));
        assertEquals("$12.3457", HtmlUsageReport.usd(12.34567));
        assertEquals("$1,234.57", HtmlUsageReport.usd(1234.567));
    }

    static String section(String html, String id) {
        int start = html.indexOf("<section class=\"table\" id=\"" + id + "\">");
        if (start < 0) {
            start = html.indexOf("<section id=\"" + id + "\">");
        }
        assertTrue(start >= 0, "section " + id + " in " + html);
        return html.substring(start, html.indexOf("</section>", start));
    }

    static List<String> groups(String text, String regex) {
        List<String> found = new ArrayList<>();
        Matcher m = Pattern.compile(regex, Pattern.DOTALL).matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }
}
