package dev.tokenguard.instrumentation.ollama;

import dev.tokenguard.core.Governor;
import dev.tokenguard.instrumentation.CallSite;

/**
 * {@code parseResponseAndAddToBuffer(line, ...)} of ollama4j's chat and generate callers: each line of a response
 * body passes here before the SDK parses it and hands it to the app's stream handler. The line goes to the call in
 * progress on this thread ({@link OllamaCall}); nothing is governed here, so nothing is returned.
 */
final class ResponseLineSite implements CallSite {

    ResponseLineSite(String method, Governor governor) {
        // a line belongs to the call begun by callSync: this site neither charges nor refuses
    }

    @Override
    public Object enter(Object caller, Object line) {
        OllamaCall call = OllamaCall.current();
        if (call != null && line instanceof String text) {
            call.onLine(text);
        }
        return null;
    }
}
