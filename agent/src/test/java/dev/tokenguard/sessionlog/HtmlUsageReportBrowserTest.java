package dev.tokenguard.sessionlog;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The HTML report as a person sees it: written by {@code report --html} from {@link HtmlReportFixture}'s
 * logs, loaded in headless Chromium (Debian's {@code chromium}), which dumps the DOM after loading and
 * takes a screenshot. The DOM must hold both charts with the fixture's totals, the markers, the tables'
 * totals and the hostile values as text only; the browser must report no console message at all (the
 * page has no script, so any message is a blocked load or a policy violation). The screenshot is kept
 * in {@code target/html-report/} for a person to look at.
 */
class HtmlUsageReportBrowserTest {

    static final Path OUT = Path.of("target", "html-report");
    static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static final Pattern CONSOLE_LINE = Pattern.compile(".*:CONSOLE[:(].*");

    static Chromium.Page page;

    @BeforeAll
    static void loadTheReport(@TempDir Path tmp) throws Exception {
        Path logs = tmp.resolve("logs");
        HtmlReportFixture.write(logs);
        Files.createDirectories(OUT);
        Path html = OUT.resolve("usage-report.html").toAbsolutePath();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = UsageReport.run(logs, html, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        page = Chromium.load(html, OUT.resolve("usage-report.png").toAbsolutePath(), tmp.resolve("profile"));
    }

    @Test
    void pageLoadsWithoutAnyConsoleMessage() {
        List<String> console = page.stderr().lines().filter(line -> CONSOLE_LINE.matcher(line).matches()).toList();
        assertEquals(List.of(), console);
    }

    @Test
    void theConsoleCheckSeesAScriptError(@TempDir Path tmp) throws Exception {
        // the check above must be able to fail with this Chromium: a page with an error is caught by it
        Path bad = Files.writeString(tmp.resolve("bad.html"),
                "<!DOCTYPE html><html><body><p>x</p><script>undefinedFunction();</script></body></html>");
        Chromium.Page loaded = Chromium.load(bad, null, tmp.resolve("profile"));
        List<String> console = loaded.stderr().lines().filter(line -> CONSOLE_LINE.matcher(line).matches()).toList();
        assertEquals(1, console.size(), loaded.stderr());
        assertTrue(console.get(0).contains("Uncaught ReferenceError"), console.get(0));
    }

    @Test
    void aMissingChromiumFailsTheTestSayingWhatToInstall(@TempDir Path emptyDir) {
        AssertionFailedError missing = assertThrows(AssertionFailedError.class,
                () -> Chromium.find(java.util.Map.of("PATH", emptyDir.toString())));
        assertTrue(missing.getMessage().contains("apt-get install chromium"), missing.getMessage());
        AssertionFailedError wrong = assertThrows(AssertionFailedError.class,
                () -> Chromium.find(java.util.Map.of("CHROMIUM", emptyDir.resolve("chromium").toString())));
        assertTrue(wrong.getMessage().contains("not an executable file"), wrong.getMessage());
    }

    @Test
    void tokenChartHoldsTheTotalPerHour() {
        String svg = element(page.dom(), "svg", "chart-tokens");
        assertEquals(Long.toString(HtmlReportFixture.TOTAL_TOKENS), attribute(svg, "data-total"));
        assertEquals("hour", attribute(svg, "data-granularity"));
        assertTrue(svg.contains(">total 7,550 tokens<"), svg);
        List<String> values = dataValues(svg);
        assertEquals(HtmlReportFixture.TOKENS_PER_HOUR_WITH_CALLS.length, values.size(), svg);
        for (int i = 0; i < values.size(); i++) {
            assertEquals(HtmlReportFixture.TOKENS_PER_HOUR_WITH_CALLS[i], Long.parseLong(values.get(i)), "bar " + i);
        }
        assertMarkers(svg);
    }

    @Test
    void costChartHoldsTheTotalOfThePricedCalls() {
        String svg = element(page.dom(), "svg", "chart-cost");
        assertEquals(HtmlReportFixture.TOTAL_USD, Double.parseDouble(attribute(svg, "data-total")), 1e-9);
        assertTrue(svg.contains(">total $0.027 USD<"), svg);
        List<String> values = dataValues(svg);
        assertEquals(HtmlReportFixture.PRICED_HOURS, values.size(), svg);
        double sum = 0;
        for (String value : values) {
            sum += Double.parseDouble(value);
        }
        assertEquals(HtmlReportFixture.TOTAL_USD, sum, 1e-9);
        assertMarkers(svg);
    }

    private static void assertMarkers(String svg) {
        List<String> warnings = matches(svg, "<g class=\"marker warning\" data-count=\"(\\d+)\"");
        List<String> refusals = matches(svg, "<g class=\"marker refusal\" data-count=\"(\\d+)\"");
        assertEquals(List.of("1"), warnings);
        assertEquals(List.of("1"), refusals);
    }

    @Test
    void tablesTotalTheLog() {
        for (String table : List.of("by-model", "by-provider", "top-scopes", "top-call-sites")) {
            String section = element(page.dom(), "section", table);
            String foot = section.substring(section.indexOf("<tfoot>"));
            List<String> cells = matches(foot, "<td[^>]*>([^<]*)<");
            assertTrue(cells.contains("5"), table + ": 5 calls in " + foot);
            assertTrue(cells.contains("7,550"), table + ": 7,550 tokens in " + foot);
            assertTrue(cells.contains("$0.027*"), table + ": $0.027 of priced calls in " + foot);
        }
        assertTrue(element(page.dom(), "section", "by-model").contains(">gpt-4o<"));
        String dash = element(page.dom(), "section", "top-call-sites");
        dash = dash.substring(dash.indexOf("title=\"—\">—</td>"));
        dash = dash.substring(0, dash.indexOf("</tr>"));
        // the hostile scope's call (150 tokens) and the refusal, both logged without call_site
        List<String> cells = matches(dash, "<td(?: class=\"(?:tokens|cost)\")?>([^<]*)<");
        assertEquals(List.of("1", "100", "50", "150", "—", "0", "1"), cells, "calls input output tokens cost warnings"
                + " refusals of the — row: " + dash);
        assertTrue(page.dom().contains("1 unreadable line skipped"), "skipped lines are counted");
        assertTrue(page.dom().contains("3 session files read"), "files read are counted");
        assertTrue(page.dom().contains("2026-11-30 09:00:00 UTC – 2026-11-30 14:30:00 UTC"), "the period is shown");
    }

    @Test
    void hostileLogValuesAreTextNotMarkup() {
        // the elements and attributes the browser built: only the report's own, no handler of any kind
        List<String[]> tags = tags(page.dom());
        assertTrue(tags.size() > 100, "the DOM holds the report: " + tags.size() + " elements");
        for (String[] tag : tags) {
            assertTrue(REPORT_ELEMENTS.contains(tag[0]), "element <" + tag[0] + "> is the report's own");
            for (int i = 1; i < tag.length; i++) {
                assertFalse(tag[i].startsWith("on"), "attribute " + tag[i] + " of <" + tag[0] + ">");
            }
        }
        // and the values are there, as text
        assertTrue(page.dom().contains("mdc:user=&lt;script&gt;alert('x')&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"),
                "the hostile scope as text");
        assertTrue(page.dom().contains("&lt;svg onload=alert(2)&gt;"), "the hostile model as text");
        assertTrue(page.dom().contains(">com.acme.Batch.run:7\" onmouseover=\"alert(3)<"), "the hostile call site as text");
    }

    static final java.util.Set<String> REPORT_ELEMENTS = java.util.Set.of("html", "head", "meta", "title", "style", "body",
            "main", "header", "footer", "section", "h1", "h2", "h3", "p", "code", "span", "div", "ul", "li", "table", "thead",
            "tbody", "tfoot", "tr", "th", "td", "svg", "g", "rect", "path", "line", "text");

    /**
     * Every start tag of a serialized DOM as {name, attribute names...}. In a serialization a {@code <} outside
     * attribute values always starts a tag (text has it as {@code &lt;}); inside a quoted value it is skipped.
     */
    static List<String[]> tags(String dom) {
        List<String[]> tags = new ArrayList<>();
        int i = 0;
        while ((i = dom.indexOf('<', i)) >= 0) {
            i++;
            if (i >= dom.length() || !Character.isLetter(dom.charAt(i))) {
                continue; // an end tag, a comment or the doctype
            }
            List<String> tag = new ArrayList<>();
            int nameEnd = i;
            while (nameEnd < dom.length() && !" />\n\t".contains(String.valueOf(dom.charAt(nameEnd)))) {
                nameEnd++;
            }
            tag.add(dom.substring(i, nameEnd).toLowerCase(java.util.Locale.ROOT));
            i = nameEnd;
            while (i < dom.length() && dom.charAt(i) != '>') {
                char c = dom.charAt(i);
                if (Character.isWhitespace(c) || c == '/') {
                    i++;
                } else {
                    int attrEnd = i;
                    while (attrEnd < dom.length() && !"= />".contains(String.valueOf(dom.charAt(attrEnd)))) {
                        attrEnd++;
                    }
                    tag.add(dom.substring(i, attrEnd).toLowerCase(java.util.Locale.ROOT));
                    i = attrEnd;
                    if (i < dom.length() && dom.charAt(i) == '=') {
                        int close = dom.indexOf('"', i + 2); // the serializer always double-quotes values
                        i = close + 1;
                    }
                }
            }
            tags.add(tag.toArray(new String[0]));
        }
        return tags;
    }

    @Test
    void screenshotIsKept() throws IOException {
        byte[] png = Files.readAllBytes(OUT.resolve("usage-report.png"));
        assertTrue(png.length > 8, "screenshot has content");
        byte[] signature = new byte[8];
        System.arraycopy(png, 0, signature, 0, 8);
        assertArrayEquals(PNG_SIGNATURE, signature);
        assertEquals(1280, ByteBuffer.wrap(png, 16, 4).getInt(), "IHDR width = the window's");
    }

    private static List<String> dataValues(String svg) {
        return matches(svg, "<rect class=\"bar\"[^>]* data-value=\"([^\"]+)\"");
    }

    /** The outer HTML of the element with this tag and id, as the DOM dump wrote it. */
    static String element(String dom, String tag, String id) {
        int start = dom.indexOf("<" + tag + " ");
        while (start >= 0 && !dom.substring(start, dom.indexOf('>', start)).contains(" id=\"" + id + "\"")) {
            start = dom.indexOf("<" + tag + " ", start + 1);
        }
        if (start < 0) {
            fail("no <" + tag + " id=\"" + id + "\"> in the DOM:\n" + dom);
        }
        int end = dom.indexOf("</" + tag + ">", start);
        assertTrue(end > start, "element " + id + " is closed");
        return dom.substring(start, end + tag.length() + 3);
    }

    static String attribute(String element, String name) {
        Matcher m = Pattern.compile(" " + name + "=\"([^\"]*)\"").matcher(element.substring(0, element.indexOf('>')));
        assertTrue(m.find(), "attribute " + name + " in " + element);
        return m.group(1);
    }

    static List<String> matches(String text, String regex) {
        List<String> found = new ArrayList<>();
        Matcher m = Pattern.compile(regex).matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    /** Headless Chromium, run once per page: the DOM after loading, its stderr log, and optionally a screenshot. */
    static final class Chromium {
        record Page(String dom, String stderr) {
        }

        static Page load(Path html, Path screenshot, Path profile) throws Exception {
            String binary = find();
            List<String> command = new ArrayList<>(List.of(binary, "--headless", "--no-sandbox", "--disable-gpu",
                    "--no-first-run", "--hide-scrollbars", "--user-data-dir=" + profile,
                    "--enable-logging=stderr", "--v=0", "--window-size=1280,1600", "--dump-dom"));
            if (screenshot != null) {
                command.add("--screenshot=" + screenshot);
            }
            command.add(html.toUri().toString());
            Path stdout = Files.createTempFile(profile.getParent(), "dom", ".html");
            Path stderr = Files.createTempFile(profile.getParent(), "chromium", ".log");
            Process process = new ProcessBuilder(command).redirectOutput(stdout.toFile())
                    .redirectError(stderr.toFile()).start();
            if (!process.waitFor(180, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail("chromium did not finish loading " + html + " within 180 s; its log:\n" + Files.readString(stderr));
            }
            String log = Files.readString(stderr);
            assertEquals(0, process.exitValue(), "chromium exit status; its log:\n" + log);
            return new Page(Files.readString(stdout), log);
        }

        static String find() {
            return find(System.getenv());
        }

        /** {@code $CHROMIUM}, else {@code chromium} on the PATH; a clear failure when neither is there. */
        static String find(java.util.Map<String, String> env) {
            String configured = env.get("CHROMIUM");
            if (configured != null && !configured.isBlank()) {
                if (!Files.isExecutable(Path.of(configured))) {
                    fail("CHROMIUM names " + configured + ", which is not an executable file; expected the path of"
                            + " headless Chromium, e.g. /usr/bin/chromium from Debian's chromium package");
                }
                return configured;
            }
            for (String dir : env.getOrDefault("PATH", "").split(File.pathSeparator)) {
                for (String name : List.of("chromium", "chromium-browser")) {
                    Path candidate = Path.of(dir, name);
                    if (Files.isExecutable(candidate)) {
                        return candidate.toString();
                    }
                }
            }
            return fail("headless Chromium is needed to test the HTML report and none was found: no 'chromium' on PATH"
                    + " and no CHROMIUM variable; install Debian's package (apt-get install chromium), as .ci/run does");
        }
    }
}
