/// Turns a detector's class probabilities into the binary p(AI) used by every metric.
///
/// Why one rule: gasbench derived the prediction and the probability differently for 3-class
/// outputs, so they could disagree (reference §3.1). Here the prediction is always `p_ai > 0.5`.
public enum BinaryProbability {
    /// - 1 value: p(AI) itself.
    /// - 2 values: [p(real), p(AI)] -> p(AI).
    /// - 3 values: [p(real), p(synthetic), p(semisynthetic)] -> 1 - p(real).
    /// Returns nil for any other shape or for values outside [0, 1].
    public static func pAI(_ probs: [Double]) -> Double? {
        guard probs.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }) else { return nil }
        switch probs.count {
        case 1: return probs[0]
        case 2: return probs[1]
        case 3: return 1 - probs[0]
        default: return nil
        }
    }

    /// Decision threshold 0.5, strict, as gasbench's sigmoid path: a tie predicts real.
    public static func predictedLabel(pAI: Double) -> Int { pAI > 0.5 ? 1 : 0 }
}
