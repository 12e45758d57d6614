package dev.tokenguard.springai2;

import org.springframework.ai.tool.annotation.Tool;

/** The one tool the app offers its models; the model calls it, Spring AI runs it and sends the result back. */
public class WeatherTools {

    @Tool(description = "The current weather in a city")
    public String currentWeather(String city) {
        System.out.println("TOOL currentWeather " + city);
        return "Sunny, 21 degrees Celsius in " + city;
    }
}
