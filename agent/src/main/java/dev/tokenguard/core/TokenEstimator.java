package dev.tokenguard.core;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;

import java.util.Locale;

/**
 * Local token estimates for calls whose provider reported no usage (a stream abandoned before
 * its usage arrived, a provider without usage). jtokkit's own model table is old, so the model to
 * encoding choice is ours: the o200k family for current OpenAI models, cl100k for the older ones,
 * and o200k as the estimate for everything else.
 */
public final class TokenEstimator {
    /** Tokens a chat message costs beyond its text (role and separators), per OpenAI's cookbook figure. */
    public static final int PER_MESSAGE_OVERHEAD = 4;

    private static final class Registry {
        static final EncodingRegistry REGISTRY = Encodings.newLazyEncodingRegistry();
    }

    private TokenEstimator() {
    }

    /** The encoding used to estimate tokens of {@code model}. */
    public static EncodingType encodingFor(String model) {
        if (model == null) {
            return EncodingType.O200K_BASE;
        }
        String m = model.toLowerCase(Locale.ROOT);
        if (m.startsWith("gpt-3.5") || m.startsWith("text-embedding-") || m.equals("gpt-4")
                || m.startsWith("gpt-4-") || m.startsWith("gpt-4-turbo")) {
            return EncodingType.CL100K_BASE;
        }
        return EncodingType.O200K_BASE;
    }

    /** Estimated tokens of {@code text} for {@code model}; 0 for null or empty text. */
    public static long estimate(String model, CharSequence text) {
        if (text == null || text.length() == 0) {
            return 0;
        }
        Encoding encoding = Registry.REGISTRY.getEncoding(encodingFor(model));
        return encoding.countTokensOrdinary(text.toString());
    }
}
