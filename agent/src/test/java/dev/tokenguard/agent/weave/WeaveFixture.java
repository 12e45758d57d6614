package dev.tokenguard.agent.weave;

import java.io.IOException;

/** Methods of the shapes the weave meets in SDKs: loops, nested handlers, wide and primitive types, void. */
public class WeaveFixture {
    /** How often a body ran: a refused call must not run it. */
    public static int bodies;

    public String greet(String name) {
        bodies++;
        return "hello " + name;
    }

    public String greet(String name, String title) {
        bodies++;
        return "hello " + title + " " + name;
    }

    public static String greetStatically(String name) {
        return "hi " + name;
    }

    public int append(String text, StringBuilder sink) {
        bodies++;
        sink.append(text);
        return text.length();
    }

    public long total() {
        bodies++;
        long total = 0;
        for (int i = 1; i <= 4; i++) {
            total += i;
        }
        return total;
    }

    public double scale(long factor, double value, String label) {
        bodies++;
        if (label == null) {
            throw new IllegalArgumentException("no label");
        }
        double scaled = factor * value;
        return scaled;
    }

    public void parse(String number) throws IOException {
        bodies++;
        try {
            Integer.parseInt(number);
        } catch (NumberFormatException e) {
            throw new IOException("not a number: " + number, e);
        }
    }

    protected boolean positive(int value) {
        bodies++;
        switch (value) {
            case 0:
                return false;
            case 1:
                return true;
            default:
                return value > 0;
        }
    }
}
