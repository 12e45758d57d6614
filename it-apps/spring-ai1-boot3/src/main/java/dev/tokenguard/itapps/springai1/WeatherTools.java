package dev.tokenguard.itapps.springai1;

import org.springframework.ai.tool.annotation.Tool;
import org.springframework.ai.tool.annotation.ToolParam;

import java.util.concurrent.atomic.AtomicInteger;

/** The tool the model may call; counts its calls so that the step can report them. */
public class WeatherTools {
    final AtomicInteger calls = new AtomicInteger();

    @Tool(description = "The current weather in a city")
    public String currentWeather(@ToolParam(description = "the city") String city) {
        calls.incrementAndGet();
        return "Sunny and 21 degrees in " + city;
    }
}
