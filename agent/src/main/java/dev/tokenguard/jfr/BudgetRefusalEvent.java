package dev.tokenguard.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR event {@code dev.tokenguard.BudgetRefusal}: a call refused before it left the JVM. */
@Name("dev.tokenguard.BudgetRefusal")
@Label("Budget Refusal")
@Category({"TokenGuard", "Budgets"})
@Description("A call refused because a budget was exhausted; no request was sent")
@StackTrace(false)
final class BudgetRefusalEvent extends jdk.jfr.Event {
    @Label("Budget")
    String budget;

    @Label("Scope")
    String scope;

    @Label("Used")
    long used;

    @Label("Limit")
    long limit;

    @Label("Unit")
    @Description("tokens, or nano-USD for a cost limit")
    String unit;

    @Label("Provider")
    String provider;

    @Label("Operation")
    String operation;

    @Label("Request Model")
    String requestModel;

    @Label("Call Site")
    @Description("The application frame that made the call, class.method:line")
    String callSite;
}
