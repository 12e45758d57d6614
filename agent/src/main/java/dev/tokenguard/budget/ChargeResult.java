package dev.tokenguard.budget;

import java.util.List;

/**
 * What one charge did.
 *
 * @param states    each budget's state right after the charge, in configuration order
 * @param crossings every threshold this charge crossed, per budget in configuration order, ascending
 *                  by threshold; an empty shared list when none
 */
public record ChargeResult(List<BudgetState> states, List<ThresholdCrossing> crossings) {
}
