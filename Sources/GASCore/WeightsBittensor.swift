/// bittensor's weight processing, ported bit for bit from `bittensor/utils/weight_utils.py` of the
/// SDK version GAS pins (10.4.0): `process_weights` (as `process_weights_for_netuid` calls it, with
/// `exclude_quantile = 0`), `normalize_max_weight` and `convert_weights_and_uids_for_emit`.
///
/// Why bit for bit: validators that disagree on a u16 weight by one unit are still in consensus,
/// but an audit that recomputes our vector with the SDK should get the same numbers. The SDK works
/// in numpy float32 on its main path and float64 on its "fewer than min_allowed_weights" path; both
/// are reproduced, including numpy's pairwise summation and NumPy 2 scalar promotion (NEP 50).
/// Golden vectors computed with the SDK are in `Tests/GASCoreTests/WeightsBittensorTests.swift`.
public enum BittensorWeights {
    public static let u16Max = 65535
    /// `normalize_max_weight`'s epsilon.
    public static let epsilon = 1e-7

    /// Which branch of `process_weights` produced a result.
    public enum Path: String, Codable, Sendable, Equatable {
        /// Non-zero weights, at least `min_allowed_weights` of them: normalized with the max-weight limit (float32).
        case normalized
        /// Fewer non-zero weights than `min_allowed_weights`: every uid gets 1e-5 plus its weight (float64).
        case belowMinAllowed = "below_min_allowed"
        /// No non-zero weight, or fewer neurons than `min_allowed_weights`: uniform 1/n over all uids.
        case uniform
    }

    public struct Processed: Sendable, Equatable {
        public var uids: [Int]
        /// The processed weights as the SDK holds them (float32 values widened exactly, or float64).
        public var weights: [Double]
        public var path: Path
    }

    /// `process_weights(uids, weights, num_neurons, min_allowed_weights, max_weight_limit, exclude_quantile=0)`.
    /// `uids` must be `0..<numNeurons` in order when fewer than `minAllowedWeights` weights are non-zero
    /// (the SDK indexes a fresh `num_neurons` array with positions of `weights`), which is how GAS calls it.
    public static func process(uids: [Int], weights: [Double], numNeurons: Int, minAllowedWeights: Int,
                               maxWeightLimit: Double) -> Processed {
        precondition(uids.count == weights.count, "uids and weights differ in length")
        let w32 = weights.map { Float($0) }
        let nonZero = w32.indices.filter { w32[$0] > 0 }
        if nonZero.isEmpty || numNeurons < minAllowedWeights {
            let n = max(numNeurons, 1)
            return Processed(uids: Array(0..<numNeurons), weights: Array(repeating: 1.0 / Double(n), count: numNeurons), path: .uniform)
        }
        if nonZero.count < minAllowedWeights {
            var x = Array(repeating: 1e-5, count: numNeurons)
            for i in nonZero where i < numNeurons { x[i] += Double(w32[i]) }
            return Processed(uids: Array(0..<numNeurons), weights: normalizeMaxWeight64(x, limit: maxWeightLimit), path: .belowMinAllowed)
        }
        // exclude_quantile = 0: np.quantile(w, 0) is the minimum, so no weight is excluded.
        let kept = nonZero.map { w32[$0] }
        let normalized = normalizeMaxWeight32(kept, limit: maxWeightLimit)
        return Processed(uids: nonZero.map { uids[$0] }, weights: normalized.map(Double.init), path: .normalized)
    }

    public enum EmitError: Error, Equatable, CustomStringConvertible {
        case negativeWeight(Double)
        case negativeUID(Int)
        case lengthMismatch(uids: Int, weights: Int)
        public var description: String {
            switch self {
            case let .negativeWeight(w): "weight \(w) is negative and cannot exist on chain"
            case let .negativeUID(u): "uid \(u) is negative and cannot exist on chain"
            case let .lengthMismatch(u, w): "weights and uids must have the same length, got \(u) uids and \(w) weights"
            }
        }
    }

    /// `convert_weights_and_uids_for_emit`: scale so the largest weight is 65535, round half to even
    /// (Python's `round`), drop zeros. All-zero weights give empty lists (nothing to set).
    public static func convertForEmit(uids: [Int], weights: [Double]) throws -> (uids: [Int], weights: [UInt16]) {
        guard uids.count == weights.count else { throw EmitError.lengthMismatch(uids: uids.count, weights: weights.count) }
        if let w = weights.first(where: { $0 < 0 }) { throw EmitError.negativeWeight(w) }
        if let u = uids.first(where: { $0 < 0 }) { throw EmitError.negativeUID(u) }
        guard let maxWeight = weights.max(), maxWeight > 0 else { return ([], []) }
        var outUIDs: [Int] = [], outWeights: [UInt16] = []
        for (w, uid) in zip(weights, uids) {
            let scaled = (w / maxWeight) * Double(u16Max)
            let value = scaled.rounded(.toNearestOrEven)
            if value != 0 {
                outUIDs.append(uid)
                outWeights.append(UInt16(value))
            }
        }
        return (outUIDs, outWeights)
    }

    // MARK: normalize_max_weight

    /// The float32 path, with NumPy 2 promotion: Python floats are weak (cast to float32) except in
    /// the cutoff's denominator, where `limit * np.int64` is float64 and drags the cutoff to float64.
    static func normalizeMaxWeight32(_ x: [Float], limit: Double) -> [Float] {
        let n = x.count
        guard n > 0 else { return [] }
        let eps = Float(epsilon)
        let limit32 = Float(limit)
        var weights = x
        let values = x.sorted()
        if pairwiseSum(x) == 0 || Double(n) * limit <= 1 {
            return Array(repeating: Float(1) / Float(n), count: n)
        }
        let valuesSum = pairwiseSum(values)
        let estimation = values.map { $0 / valuesSum }
        if estimation.max()! <= limit32 {
            let s = pairwiseSum(weights)
            return weights.map { $0 / s }
        }
        var cumsum: [Float] = []
        cumsum.reserveCapacity(n)
        var running: Float = 0
        for e in estimation { running += e; cumsum.append(running) }
        var nValues = 0
        for i in 0..<n {
            let estimationSum = Float(n - i - 1) * estimation[i]
            if estimation[i] / ((estimationSum + cumsum[i]) + eps) < limit32 { nValues += 1 }
        }
        let k = nValues - 1 < 0 ? n - 1 : nValues - 1   // numpy: index -1 is the last element
        let numerator = limit32 * cumsum[k] - eps
        let denominator = 1 - (limit * Double(n - nValues))
        let cutoffScale = Double(numerator) / denominator
        let cutoff = cutoffScale * Double(valuesSum)
        for i in 0..<n where Double(weights[i]) > cutoff { weights[i] = Float(cutoff) }
        let s = pairwiseSum(weights)
        return weights.map { $0 / s }
    }

    /// The float64 path (`np.ones(n, dtype=int64) * 1e-5` is float64).
    static func normalizeMaxWeight64(_ x: [Double], limit: Double) -> [Double] {
        let n = x.count
        guard n > 0 else { return [] }
        var weights = x
        let values = x.sorted()
        if pairwiseSum(x) == 0 || Double(n) * limit <= 1 {
            return Array(repeating: 1 / Double(n), count: n)
        }
        let valuesSum = pairwiseSum(values)
        let estimation = values.map { $0 / valuesSum }
        if estimation.max()! <= limit {
            let s = pairwiseSum(weights)
            return weights.map { $0 / s }
        }
        var cumsum: [Double] = []
        var running = 0.0
        for e in estimation { running += e; cumsum.append(running) }
        var nValues = 0
        for i in 0..<n {
            let estimationSum = Double(n - i - 1) * estimation[i]
            if estimation[i] / ((estimationSum + cumsum[i]) + epsilon) < limit { nValues += 1 }
        }
        let k = nValues - 1 < 0 ? n - 1 : nValues - 1
        let cutoffScale = (limit * cumsum[k] - epsilon) / (1 - (limit * Double(n - nValues)))
        let cutoff = cutoffScale * valuesSum
        for i in 0..<n where weights[i] > cutoff { weights[i] = cutoff }
        let s = pairwiseSum(weights)
        return weights.map { $0 / s }
    }

    /// numpy's `pairwise_sum` (the algorithm behind `ndarray.sum()` of a contiguous array): a plain
    /// loop below 8 elements, eight interleaved accumulators up to 128, halves (multiple of 8) above.
    static func pairwiseSum<F: BinaryFloatingPoint>(_ a: [F]) -> F {
        pairwiseSum(a[...])
    }

    private static func pairwiseSum<F: BinaryFloatingPoint>(_ a: ArraySlice<F>) -> F {
        let n = a.count
        let base = a.startIndex
        if n < 8 {
            var res: F = 0
            for v in a { res += v }
            return res
        } else if n <= 128 {
            var r = (0..<8).map { a[base + $0] }
            var i = 8
            while i < n - (n % 8) {
                for j in 0..<8 { r[j] += a[base + i + j] }
                i += 8
            }
            var res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            while i < n { res += a[base + i]; i += 1 }
            return res
        } else {
            var n2 = n / 2
            n2 -= n2 % 8
            return pairwiseSum(a[base..<(base + n2)]) + pairwiseSum(a[(base + n2)...])
        }
    }
}
