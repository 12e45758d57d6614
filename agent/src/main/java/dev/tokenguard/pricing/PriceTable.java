package dev.tokenguard.pricing;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * List prices of LLM models, used to put an estimated {@code cost_usd} on every call and to enforce
 * {@code max-cost-usd} budgets.
 *
 * <h2>Where the prices come from</h2>
 * The built-in table ({@code dev/tokenguard/pricing/prices.json}) holds the providers' public list prices on the
 * date it gives ({@link #date()}), standard tier, no batch or volume discounts. The file named by
 * {@code tokenguard.pricing.file} has the same form; its entries replace built-in entries with the same pattern
 * and provider and add the others ({@link #builtInWith(Path)}).
 *
 * <h2>Which entry prices a call</h2>
 * An entry's pattern is an exact model name or a prefix ending in {@code *}; matching ignores case, and a leading
 * {@code models/} (Gemini resource names) is ignored. Of the entries that match the model and the provider (an
 * entry without provider matches any provider), the most specific wins:
 * <ol>
 *   <li>an entry for the call's provider beats a provider-agnostic one;</li>
 *   <li>then an exact name beats a prefix;</li>
 *   <li>then the longer prefix beats the shorter: {@code gpt-4o-mini-2024-07-18} is priced by
 *       {@code gpt-4o-mini*}, not by {@code gpt-4o*}.</li>
 * </ol>
 * The built-in entries name no provider (the model names are the vendors' own), and for dated snapshots they use
 * {@code <model>-20*} prefixes rather than {@code <model>*}, so that sibling models with other prices
 * ({@code gpt-4o-audio-preview}, {@code o3-pro}, ...) stay unpriced instead of being priced wrongly.
 *
 * <h2>How a call's cost is computed</h2>
 * Prices are USD per 1M tokens. Token counts follow the GenAI semantic conventions: {@code inputTokens} INCLUDES
 * the cache-read and cache-write tokens, and {@code outputTokens} INCLUDES the reasoning tokens. So:
 * <pre>
 * uncached  = max(0, input - cacheRead - cacheWrite)
 * cost      = uncached   * input price
 *           + cacheRead  * (cached-input price, else input price)
 *           + cacheWrite * (cache-write price,  else input price)
 *           + output price part
 * output price part = output * output price                                        when no reasoning price is given
 *                   = max(0, output - reasoning) * output price + reasoning * reasoning price   otherwise
 * cost_usd  = cost / 1,000,000
 * </pre>
 * A missing count (null) other than input and output counts as 0; a negative count counts as 0. The cost is
 * {@code null} when no entry matches or when both input and output counts are unknown. The sum is computed in
 * decimal, so {@code 1,000 tokens at 0.15} is exactly {@code 0.00015}.
 *
 * <p>Not modelled: long-context tiers (the built-in prices are those for prompts up to 200k tokens where a model
 * has tiers), audio/image token prices, 1-hour cache writes (the built-in cache-write price is the 5-minute one),
 * Gemini context-cache storage per hour, batch and priority tiers.
 *
 * <p>Instances are immutable and safe to share between threads.
 */
public final class PriceTable {
    /** The built-in table, next to this class on the class path. */
    static final String RESOURCE = "prices.json";
    private static final String RESOURCE_PATH = "dev/tokenguard/pricing/" + RESOURCE;
    private static final String GEMINI_RESOURCE_PREFIX = "models/";
    /** The geographic prefixes of Bedrock's cross-region inference profiles ({@code us.anthropic...}). */
    private static final java.util.Set<String> INFERENCE_PROFILE_PREFIXES = java.util.Set.of("us", "eu", "apac",
            "us-gov", "global", "jp", "au", "ca");

    private static volatile PriceTable builtIn;

    /** The most (provider, model) pairs whose lookups are remembered; lookups beyond it are made every time. */
    static final int MAX_REMEMBERED = 1024;

    private final String date;
    private final List<ModelPrice> entries;
    /**
     * What {@link #find} found, by provider ({@code ""} for none) and model name as the call gave them: every call
     * asks for the same few models, and a lookup walks the whole table.
     */
    private final ConcurrentHashMap<String, ConcurrentHashMap<String, Priced>> remembered = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger rememberedCount = new java.util.concurrent.atomic.AtomicInteger();

    private PriceTable(String date, List<ModelPrice> entries) {
        this.date = date;
        this.entries = List.copyOf(entries);
    }

    /**
     * An entry found for a model, with its prices in pico-USD per token when each is a whole number of them (a
     * price per 1M tokens with at most six decimals), so that a call's cost is summed in {@code long}s; -1 where a
     * price is not, and the sum is made in {@link BigDecimal}.
     */
    private record Priced(ModelPrice price, long input, long cachedInput, long cacheWrite, long output,
                          long reasoning) {
        static final Priced NONE = new Priced(null, -1, -1, -1, -1, -1);

        static Priced of(ModelPrice p) {
            long input = pico(p.inputPerMTok());
            long output = pico(p.outputPerMTok());
            return new Priced(p, input,
                    p.cachedInputPerMTok() == null ? input : pico(p.cachedInputPerMTok()),
                    p.cacheWritePerMTok() == null ? input : pico(p.cacheWritePerMTok()),
                    output,
                    p.reasoningPerMTok() == null ? output : pico(p.reasoningPerMTok()));
        }

        /** A price per 1M tokens in pico-USD per token, or -1 when that is not a whole number. */
        private static long pico(double perMTok) {
            try {
                return BigDecimal.valueOf(perMTok).movePointRight(6).longValueExact();
            } catch (ArithmeticException e) {
                return -1;
            }
        }

        boolean whole() {
            return input >= 0 && cachedInput >= 0 && cacheWrite >= 0 && output >= 0 && reasoning >= 0;
        }
    }

    private Priced lookUp(String provider, String model) {
        String p = provider == null ? "" : provider;
        ConcurrentHashMap<String, Priced> byModel = remembered.get(p);
        Priced found = byModel == null ? null : byModel.get(model);
        if (found != null) {
            return found;
        }
        ModelPrice price = find(provider, model).orElse(null);
        found = price == null ? Priced.NONE : Priced.of(price);
        if (rememberedCount.get() < MAX_REMEMBERED) {
            if (byModel == null) {
                ConcurrentHashMap<String, Priced> made = new ConcurrentHashMap<>();
                byModel = remembered.putIfAbsent(p, made);
                if (byModel == null) {
                    byModel = made;
                }
            }
            if (byModel.putIfAbsent(model, found) == null) {
                rememberedCount.incrementAndGet();
            }
        }
        return found;
    }

    /**
     * The built-in table, read once.
     *
     * @throws IllegalStateException only if the shipped resource is missing or broken (a test guards it)
     */
    public static PriceTable builtIn() {
        PriceTable table = builtIn;
        if (table == null) {
            table = readBuiltIn();
            builtIn = table;
        }
        return table;
    }

    /**
     * The built-in table with the entries of {@code overrideFile} (the value of {@code tokenguard.pricing.file})
     * laid over it: a file entry replaces the built-in entry with the same pattern (ignoring case) and provider,
     * and is added otherwise. The file has the built-in table's form; its {@code date}, {@code currency} and
     * {@code unit} may be left out, and when it gives a date, that is the combined table's {@link #date()}.
     *
     * @throws PricingException when the file cannot be read or is not a valid price table; the one-line message
     *                          names the file, the line, column and JSON path, and what was expected
     */
    public static PriceTable builtInWith(Path overrideFile) throws PricingException {
        Objects.requireNonNull(overrideFile, "overrideFile");
        String source = "tokenguard.pricing.file=" + overrideFile;
        byte[] json;
        try {
            json = Files.readAllBytes(overrideFile);
        } catch (IOException | RuntimeException e) {
            throw new PricingException(source + ": cannot read the file (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage())
                    + "); expected a readable JSON price table", e);
        }
        PriceFileReader.Contents override = PriceFileReader.read(source, json, false);
        PriceTable base = builtIn();
        Map<String, ModelPrice> merged = new LinkedHashMap<>();
        for (ModelPrice entry : base.entries) {
            merged.put(key(entry), entry);
        }
        for (ModelPrice entry : override.models()) {
            merged.put(key(entry), entry);
        }
        return new PriceTable(override.date() != null ? override.date() : base.date,
                List.copyOf(merged.values()));
    }

    /** A table of exactly {@code entries}, for tests of matching and cost without the built-in prices. */
    static PriceTable of(String date, List<ModelPrice> entries) {
        return new PriceTable(date, entries);
    }

    /** The date the prices are as of, e.g. {@code 2026-11-25}. */
    public String date() {
        return date;
    }

    /** Every entry: the built-in ones (or their replacements) in file order, then the added ones. */
    public List<ModelPrice> entries() {
        return entries;
    }

    /**
     * The most specific entry that prices {@code model} called through {@code provider} (see the class comment),
     * or empty when none does or {@code model} is null or blank. {@code provider} may be null: then only
     * provider-agnostic entries match.
     */
    public Optional<ModelPrice> find(String provider, String model) {
        if (model == null) {
            return Optional.empty();
        }
        String m = model.trim().toLowerCase(Locale.ROOT);
        if (m.startsWith(GEMINI_RESOURCE_PREFIX)) {
            m = m.substring(GEMINI_RESOURCE_PREFIX.length());
        }
        m = bedrockModelId(m);
        if (m.isEmpty()) {
            return Optional.empty();
        }
        String p = provider == null ? null : provider.trim().toLowerCase(Locale.ROOT);
        ModelPrice best = null;
        for (ModelPrice entry : entries) {
            if (entry.provider() != null && !entry.provider().equalsIgnoreCase(p)) {
                continue;
            }
            if (entry.matches(m) && (best == null || entry.moreSpecificThan(best))) {
                best = entry;
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * The estimated cost of one call in USD (see the class comment for the formula), or {@code null} when the
     * model is not priced or both {@code inputTokens} and {@code outputTokens} are unknown.
     */
    public Double cost(String provider, String model, Long inputTokens, Long outputTokens, Long cacheReadTokens,
                       Long cacheWriteTokens, Long reasoningTokens) {
        if (inputTokens == null && outputTokens == null) {
            return null;
        }
        double cost = costOrNaN(provider, model, count(inputTokens), count(outputTokens), count(cacheReadTokens),
                count(cacheWriteTokens), count(reasoningTokens));
        return Double.isNaN(cost) ? null : cost;
    }

    /**
     * The estimated cost of one call in USD, as {@link #cost(String, String, Long, Long, Long, Long, Long)} with
     * every count known (a negative count counts as 0), or {@code NaN} when the model is not priced: the same figure
     * without boxing a count or the result.
     */
    public double costOrNaN(String provider, String model, long inputTokens, long outputTokens, long cacheReadTokens,
                            long cacheWriteTokens, long reasoningTokens) {
        if (model == null) {
            return Double.NaN;
        }
        Priced priced = lookUp(provider, model);
        if (priced.price() == null) {
            return Double.NaN;
        }
        ModelPrice price = priced.price();
        long input = Math.max(0, inputTokens);
        long output = Math.max(0, outputTokens);
        long cacheRead = Math.max(0, cacheReadTokens);
        long cacheWrite = Math.max(0, cacheWriteTokens);
        long reasoning = Math.max(0, reasoningTokens);

        long uncached = Math.max(0, input - cacheRead - cacheWrite);
        if (priced.whole()) {
            try {
                long outputPart = price.reasoningPerMTok() == null
                        ? Math.multiplyExact(output, priced.output())
                        : Math.addExact(Math.multiplyExact(Math.max(0, output - reasoning), priced.output()),
                                Math.multiplyExact(reasoning, priced.reasoning()));
                long pico = Math.addExact(Math.addExact(Math.addExact(Math.multiplyExact(uncached, priced.input()),
                        Math.multiplyExact(cacheRead, priced.cachedInput())),
                        Math.multiplyExact(cacheWrite, priced.cacheWrite())), outputPart);
                if (pico < (1L << 53)) {
                    // exact in a double, so one division rounds the exact decimal sum once, as BigDecimal would
                    return pico / 1e12;
                }
            } catch (ArithmeticException e) {
                // beyond a long: summed in decimal below
            }
        }
        BigDecimal inputPrice = decimal(price.inputPerMTok());
        BigDecimal outputPrice = decimal(price.outputPerMTok());
        BigDecimal total = times(uncached, inputPrice)
                .add(times(cacheRead, orElse(price.cachedInputPerMTok(), inputPrice)))
                .add(times(cacheWrite, orElse(price.cacheWritePerMTok(), inputPrice)));
        if (price.reasoningPerMTok() == null) {
            total = total.add(times(output, outputPrice));
        } else {
            total = total.add(times(Math.max(0, output - reasoning), outputPrice))
                    .add(times(reasoning, decimal(price.reasoningPerMTok())));
        }
        return total.movePointLeft(6).doubleValue();
    }

    @Override
    public String toString() {
        return "PriceTable[date=" + date + ", " + entries.size() + " entries]";
    }

    /**
     * The Bedrock model id an inference profile or ARN names, e.g. {@code anthropic.claude-sonnet-4-20250514-v1:0}
     * for {@code us.anthropic.claude-sonnet-4-20250514-v1:0} or
     * {@code arn:aws:bedrock:us-east-1:111122223333:inference-profile/eu.anthropic...}; other names as they are.
     */
    static String bedrockModelId(String model) {
        String m = model;
        int slash = m.lastIndexOf('/');
        if (m.startsWith("arn:") && slash >= 0) {
            m = m.substring(slash + 1);
        }
        int dot = m.indexOf('.');
        if (dot > 0 && m.indexOf('.', dot + 1) > dot + 1 && INFERENCE_PROFILE_PREFIXES.contains(m.substring(0, dot))) {
            m = m.substring(dot + 1);
        }
        return m;
    }

    /** Identity of an entry for overriding and duplicate detection: the pattern ignoring case, and the provider. */
    static String key(ModelPrice entry) {
        return entry.pattern().toLowerCase(Locale.ROOT) + '\u0000'
                + (entry.provider() == null ? "" : entry.provider().toLowerCase(Locale.ROOT));
    }

    private static PriceTable readBuiltIn() {
        String source = "built-in price table " + RESOURCE_PATH;
        try (InputStream in = PriceTable.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(source + " is missing from the class path");
            }
            // read without jackson-core's parser: see BuiltInTable
            PriceFileReader.Contents contents = BuiltInTable.read(in.readAllBytes());
            return new PriceTable(contents.date(), contents.models());
        } catch (IOException e) {
            throw new IllegalStateException(source + " cannot be read: " + e, e);
        } catch (RuntimeException e) {
            throw new IllegalStateException(source + " cannot be read: " + e.getMessage(), e);
        }
    }

    private static long count(Long tokens) {
        return tokens == null ? 0 : Math.max(0, tokens);
    }

    private static BigDecimal decimal(double price) {
        return BigDecimal.valueOf(price);
    }

    private static BigDecimal orElse(Double price, BigDecimal fallback) {
        return price == null ? fallback : decimal(price);
    }

    private static BigDecimal times(long tokens, BigDecimal price) {
        return tokens == 0 ? BigDecimal.ZERO : BigDecimal.valueOf(tokens).multiply(price);
    }
}
