package dev.tokenguard.config;

import java.util.Collection;

/** Finds the known key closest to a mistyped one, for "did you mean" hints. */
public final class ClosestKey {
    private ClosestKey() {
    }

    /**
     * The candidate closest to {@code typed}: one with the same last segment (after the last '.' or '_') wins
     * ({@code tokenguard.budget.mode} -> {@code tokenguard.mode}), then one in the same group
     * ({@code tokenguard.otel.exporter} -> {@code tokenguard.otel.enabled}), then the smallest edit distance.
     */
    static String among(String typed, Collection<String> candidates, char separator) {
        String lastSegment = typed.substring(typed.lastIndexOf(separator) + 1);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = distance(typed, c) - 100 * commonLeadingSegments(typed, c, separator);
            if (!lastSegment.isEmpty() && c.substring(c.lastIndexOf(separator) + 1).equals(lastSegment)) {
                d -= 10_000;
            }
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        return best;
    }

    private static int commonLeadingSegments(String a, String b, char separator) {
        String[] x = a.split(java.util.regex.Pattern.quote(String.valueOf(separator)));
        String[] y = b.split(java.util.regex.Pattern.quote(String.valueOf(separator)));
        int n = 0;
        while (n < x.length - 1 && n < y.length - 1 && x[n].equals(y[n])) {
            n++;
        }
        return n;
    }

    /** Levenshtein distance. */
    public static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
