package dev.tokenguard.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Percentage;
import jdk.jfr.StackTrace;

/** JFR event {@code dev.tokenguard.BudgetWarning}: a call crossed a warning threshold of a budget. */
@Name("dev.tokenguard.BudgetWarning")
@Label("Budget Warning")
@Category({"TokenGuard", "Budgets"})
@Description("A budget crossed a warning threshold in one scope instance")
@StackTrace(false)
final class BudgetWarningEvent extends jdk.jfr.Event {
    @Label("Budget")
    String budget;

    @Label("Scope")
    String scope;

    @Label("Threshold")
    @Percentage
    double threshold;

    @Label("Used")
    @Description("Usage after the call, in the unit of the limit that crossed")
    long used;

    @Label("Limit")
    long limit;

    @Label("Unit")
    @Description("tokens, or nano-USD for a cost limit")
    String unit;
}
