package dev.tokenguard.config;

import dev.tokenguard.budget.EnforcementMode;
import dev.tokenguard.budget.ScopeSpec;

import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parsers for the value forms of the configuration options. Each takes trimmed, non-blank text and either returns
 * the value or throws {@link IllegalArgumentException} whose message is the specific reason (possibly empty); the
 * caller adds the key, the value, the source and the expected form.
 */
final class ValueFormats {
    /** Written for an optional value to mean "not set", overriding a lower-precedence source or a default. */
    static final String NONE = "none";

    private static final Pattern TOKENS = Pattern.compile("([0-9]+(?:_[0-9]+)*)(?:\\.([0-9]+))?([kKmM]?)");
    private static final Pattern COST = Pattern.compile("[0-9]*\\.?[0-9]+");
    private static final Pattern WINDOW = Pattern.compile("([0-9]+)([mhd])");
    private static final Pattern PROVIDER = Pattern.compile("[a-z0-9][a-z0-9._-]*");
    private static final long MINUTES_PER_DAY = 24 * 60;
    private static final Pattern SPAN = Pattern.compile("([0-9]+)(ms|s|m|h)");

    private ValueFormats() {
    }

    static boolean isNone(String text) {
        return NONE.equalsIgnoreCase(text);
    }

    static Boolean bool(String text) {
        if (text.equalsIgnoreCase("true")) {
            return Boolean.TRUE;
        }
        if (text.equalsIgnoreCase("false")) {
            return Boolean.FALSE;
        }
        throw new IllegalArgumentException("");
    }

    /** How many scope instances the utilization gauge reports per budget and scope kind: 1 to 1000. */
    static Integer scopeCount(String text) {
        if (!text.matches("[0-9]{1,4}")) {
            throw new IllegalArgumentException("");
        }
        int n = Integer.parseInt(text);
        if (n < 1 || n > 1000) {
            throw new IllegalArgumentException(n + " is out of range");
        }
        return n;
    }

    static EnforcementMode mode(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "enforce" -> EnforcementMode.ENFORCE;
            case "warn" -> EnforcementMode.WARN;
            default -> throw new IllegalArgumentException("");
        };
    }

    /** A positive whole number of tokens: digits, optionally grouped with {@code _}, optionally {@code k} (x1000) or {@code M} (x1000000). */
    static Long tokens(String text) {
        if (isNone(text)) {
            return null;
        }
        if (text.startsWith("-")) {
            throw new IllegalArgumentException("must be greater than 0");
        }
        if (text.matches("[0-9]{1,3}(,[0-9]{3})+")) {
            throw new IllegalArgumentException("',' separates list items; group digits with '_' instead, e.g. 100_000");
        }
        Matcher m = TOKENS.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("");
        }
        String digits = m.group(1).replace("_", "") + (m.group(2) == null ? "" : "." + m.group(2));
        BigDecimal n = new BigDecimal(digits);
        String suffix = m.group(3).toLowerCase(Locale.ROOT);
        if (suffix.equals("k")) {
            n = n.movePointRight(3);
        } else if (suffix.equals("m")) {
            n = n.movePointRight(6);
        }
        if (n.signum() == 0) {
            throw new IllegalArgumentException("must be greater than 0");
        }
        if (n.stripTrailingZeros().scale() > 0) {
            throw new IllegalArgumentException("not a whole number of tokens");
        }
        try {
            return n.longValueExact();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("too large, at most " + Long.MAX_VALUE);
        }
    }

    /** A positive amount of US dollars, plain decimal notation. */
    static Double cost(String text) {
        if (isNone(text)) {
            return null;
        }
        if (text.startsWith("-")) {
            throw new IllegalArgumentException("must be greater than 0");
        }
        if (text.startsWith("$")) {
            throw new IllegalArgumentException("write the amount without a currency sign");
        }
        if (!COST.matcher(text).matches()) {
            throw new IllegalArgumentException("");
        }
        BigDecimal amount = new BigDecimal(text);
        if (amount.signum() == 0) {
            throw new IllegalArgumentException("must be greater than 0");
        }
        double d = amount.doubleValue();
        if (Double.isInfinite(d)) {
            throw new IllegalArgumentException("too large");
        }
        return d;
    }

    static ScopeSpec scope(String text) {
        if (text.equals("mdc:")) {
            throw new IllegalArgumentException("an MDC scope needs the MDC key after 'mdc:'");
        }
        try {
            return ScopeSpec.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("");
        }
    }

    /**
     * A window of {@code <n>m}, {@code <n>h} or {@code <n>d}, at least one minute. Windows start at fixed UTC
     * boundaries, so a window shorter than a day must divide the day evenly and a longer one must be whole days.
     */
    static Duration window(String text) {
        if (isNone(text)) {
            return null;
        }
        Matcher m = WINDOW.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("");
        }
        long minutes;
        try {
            long n = Long.parseLong(m.group(1));
            long unit = switch (m.group(2)) {
                case "m" -> 1;
                case "h" -> 60;
                default -> MINUTES_PER_DAY;
            };
            minutes = Math.multiplyExact(n, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("too large");
        }
        if (minutes < 1) {
            throw new IllegalArgumentException("must be at least 1m");
        }
        if (minutes < MINUTES_PER_DAY && MINUTES_PER_DAY % minutes != 0) {
            throw new IllegalArgumentException("it does not divide 24h evenly (windows restart at the same UTC times"
                    + " every day)");
        }
        if (minutes > MINUTES_PER_DAY && minutes % MINUTES_PER_DAY != 0) {
            throw new IllegalArgumentException("it is longer than a day but not a whole number of days");
        }
        return Duration.ofMinutes(minutes);
    }

    private static final Pattern AGE = Pattern.compile("([0-9]{1,9})([mhd])");
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,12})\\s*([KMGT]i?B|B)?", Pattern.CASE_INSENSITIVE);

    /** An age of {@code <n>m}, {@code <n>h} or {@code <n>d}, at least one minute; {@code none} for no limit. */
    static Duration age(String text) {
        if (isNone(text)) {
            return null;
        }
        Matcher m = AGE.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("");
        }
        long n = Long.parseLong(m.group(1));
        if (n < 1) {
            throw new IllegalArgumentException("must be at least 1m");
        }
        return switch (m.group(2)) {
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    /** A size in bytes: a whole number with an optional unit, KB..TB (powers of 1,000) or KiB..TiB (of 1,024); {@code none}: no limit. */
    static Long byteSize(String text) {
        if (isNone(text)) {
            return null;
        }
        Matcher m = SIZE.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "B" : m.group(2).toUpperCase(Locale.ROOT);
        boolean binary = unit.length() == 3;
        int power = "BKMGT".indexOf(unit.charAt(0));
        long factor = 1;
        for (int i = 0; i < power; i++) {
            factor *= binary ? 1024 : 1000;
        }
        if (n < 1) {
            throw new IllegalArgumentException("must be at least 1 byte");
        }
        try {
            return Math.multiplyExact(n, factor);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("too large");
        }
    }

    /** Fractions in (0, 1], separated by ',' or ';', returned deduplicated and ascending. */
    static double[] warnAt(String text) {
        if (isNone(text)) {
            return new double[0];
        }
        TreeSet<Double> fractions = new TreeSet<>();
        for (String item : items(text)) {
            BigDecimal f;
            try {
                f = new BigDecimal(item);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + item + "' is not a number");
            }
            if (f.signum() <= 0 || f.compareTo(BigDecimal.ONE) > 0) {
                String hint = f.compareTo(BigDecimal.ONE) > 0 && f.compareTo(BigDecimal.valueOf(100)) <= 0
                        ? " (write percentages as fractions, e.g. 0.75 for 75 %)" : "";
                throw new IllegalArgumentException(item + " is not in (0, 1]" + hint);
            }
            fractions.add(f.doubleValue());
        }
        double[] sorted = new double[fractions.size()];
        int i = 0;
        for (double f : fractions) {
            sorted[i++] = f;
        }
        return sorted; // a loop, not a stream: this runs at the JVM's start-up (the default thresholds)
    }

    static Path path(String text) {
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("not a valid path: " + e.getReason());
        }
    }

    /** A path that names an existing, readable regular file. */
    static Path readableFile(String text) {
        if (isNone(text)) {
            return null;
        }
        Path p = path(text);
        if (!Files.exists(p)) {
            throw new IllegalArgumentException("no such file");
        }
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException("not a regular file");
        }
        if (!Files.isReadable(p)) {
            throw new IllegalArgumentException("not readable");
        }
        return p;
    }

    /** A readable file of PEM (or DER) X.509 certificates, at least one: the CAs a TLS store is checked against. */
    static Path caFile(String text) {
        Path p = readableFile(text);
        if (p == null) {
            return null;
        }
        try (java.io.InputStream in = Files.newInputStream(p)) {
            if (java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
                throw new IllegalArgumentException("no certificate in it");
            }
        } catch (java.io.IOException | java.security.cert.CertificateException e) {
            throw new IllegalArgumentException("not a file of certificates (" + e.getMessage() + ")");
        }
        return p;
    }

    /** The path of a config file: a .properties, .yaml or .yml file (existence is checked when it is read). */
    static Path configFile(String text) {
        if (isNone(text)) {
            return null;
        }
        Path p = path(text);
        if (ConfigFile.Format.of(p) == null) {
            throw new IllegalArgumentException("unknown file type");
        }
        return p;
    }

    /**
     * Absolute http(s) base URLs separated by ',' or ';', each optionally followed by {@code =provider}.
     *
     * <p>A base URL is matched against requests by scheme, host, port and path prefix only, so a query or a fragment
     * could never narrow what it governs; and a query is where keys tend to live ({@code ?key=...}). An entry with a
     * query or fragment is therefore refused, never silently widened, and the message shows it with everything after
     * the {@code ?} or {@code #} hidden. The check comes before the provider is split off, so a {@code =} inside a
     * query is never taken for the provider separator.
     */
    static List<HttpEndpoint> endpoints(String text) {
        if (isNone(text)) {
            return List.of();
        }
        List<HttpEndpoint> endpoints = new ArrayList<>();
        for (String item : items(text)) {
            int query = indexOfAny(item, '?', '#');
            if (query >= 0) {
                throw new IllegalArgumentException("'" + Redaction.url(item) + "' has a "
                        + (item.charAt(query) == '?' ? "query" : "fragment") + "; a base URL is matched by scheme,"
                        + " host, port and path prefix only: give it without what follows '" + item.charAt(query)
                        + "', e.g. " + Redaction.url(item.substring(0, query)));
            }
            String url = item;
            String provider = null;
            int eq = item.lastIndexOf('=');
            if (eq >= 0) {
                url = item.substring(0, eq).trim();
                provider = item.substring(eq + 1).trim().toLowerCase(Locale.ROOT);
                if (!PROVIDER.matcher(provider).matches()) {
                    throw new IllegalArgumentException("'" + provider + "' is not a provider name such as openai");
                }
            }
            URI uri;
            try {
                uri = new URI(url);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("'" + Redaction.url(url) + "' is not a URL");
            }
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
                throw new IllegalArgumentException("'" + Redaction.url(url) + "' is not an absolute http or https URL");
            }
            if (uri.getRawUserInfo() != null) {
                throw new IllegalArgumentException("a base URL must not carry user info (credentials)");
            }
            endpoints.add(new HttpEndpoint(uri.normalize(), provider));
        }
        return List.copyOf(endpoints);
    }

    private static int indexOfAny(String s, char a, char b) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == a || s.charAt(i) == b) {
                return i;
            }
        }
        return -1;
    }

    /** Splits a list value on ',' or ';' (';' is what agent arguments need, where ',' separates arguments). */
    /**
     * Output tokens a call reserves when its request sets no cap: a whole number of tokens >= 0 (as {@link #tokens},
     * but 0 is allowed), or {@code off} for no reservation at all ({@code -1}).
     */
    static Long reserveOutput(String text) {
        if (text.equalsIgnoreCase("off")) {
            return -1L;
        }
        if (text.equals("0")) {
            return 0L;
        }
        if (isNone(text)) {
            throw new IllegalArgumentException("'none' is not a reserve; use off to turn reservation off");
        }
        return tokens(text);
    }

    /** A length of time {@code <n>ms}, {@code <n>s}, {@code <n>m} or {@code <n>h}; {@code 0} is allowed. */
    static java.time.Duration span(String text) {
        if (text.equals("0")) {
            return java.time.Duration.ZERO;
        }
        Matcher m = SPAN.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("");
        }
        try {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> java.time.Duration.ofMillis(n);
                case "s" -> java.time.Duration.ofSeconds(n);
                case "m" -> java.time.Duration.ofMinutes(n);
                default -> java.time.Duration.ofHours(n);
            };
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("too large");
        }
    }

    /** A store namespace: it becomes part of every store key, so it keeps to a safe alphabet. */
    static String storeNamespace(String text) {
        if (!text.matches("[A-Za-z0-9._-]{1,100}")) {
            throw new IllegalArgumentException("");
        }
        return text;
    }

    /** A positive length of time, as {@link #span}. */
    static java.time.Duration positiveSpan(String text) {
        java.time.Duration d = span(text);
        if (d.isZero()) {
            throw new IllegalArgumentException("must be greater than 0");
        }
        return d;
    }

    static List<String> items(String text) {
        List<String> items = new ArrayList<>();
        for (String item : text.split("[,;]", -1)) {
            String t = item.trim();
            if (t.isEmpty()) {
                throw new IllegalArgumentException("empty list item");
            }
            items.add(t);
        }
        return items;
    }
}
