import Dispatch
import Foundation

// The scorer's engine: every slice of every scope in one pass over the rows, one sort for every
// slice's ROC AUC, and one bootstrap per distinct slice membership.
//
// The numbers are bit for bit those of `BinaryMetricsAccumulator` slice by slice (the reference
// definition, kept for single slices): sums run in row order within each slice, AUC rank sums are
// exact (half-integers far below 2^52), ECE bins fill in row order.

/// Per-slice running sums, in row order.
struct SliceSums {
    var count = 0
    var tp = 0, tn = 0, fp = 0, fn = 0
    var brierSum = 0.0, ceSum = 0.0
    // AUC state while walking the scores in ascending order.
    var seen = 0
    var groupKey: UInt64 = 0
    var groupStart = 0
    var groupPositives = 0
    var rankSum = 0.0
}

enum SliceScoring {
    /// The confusion cell of (label, predicted): 0 tp, 1 tn, 2 fp, 3 fn (as the accumulator counts).
    @inline(__always)
    static func cell(label: Int, predicted: Int) -> UInt8 {
        switch (label, predicted) {
        case (1, 1): return 0
        case (0, 0): return 1
        case (0, _): return 2
        default: return 3
        }
    }

    // Positions in `allCases`, without hashing.
    @inline(__always) static func index(_ s: OutcomeStatus) -> Int {
        switch s { case .ok: 0; case .error: 1; case .timeout: 2; case .skipped: 3 }
    }
    @inline(__always) static func index(_ m: Modality) -> Int {
        switch m { case .image: 0; case .video: 1; case .audio: 2 }
    }
    @inline(__always) static func index(_ t: MediaType) -> Int {
        switch t { case .real: 0; case .synthetic: 1; case .semisynthetic: 2 }
    }
    @inline(__always) static func index(_ k: SourceKind) -> Int {
        switch k { case .real: 0; case .synthetic: 1; case .generator: 2 }
    }

    /// Order-preserving unsigned key of a double (-0 as +0, so equal scores share a key).
    @inline(__always)
    static func sortKey(_ value: Double) -> UInt64 {
        let bits = (value + 0.0).bitPattern
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }

    /// Indices 0..<keys.count sorted by key ascending (LSD radix sort, 16-bit digits; digits that
    /// are the same for every key are skipped).
    static func sortedIndices(_ keys: [UInt64]) -> [Int32] {
        let n = keys.count
        var order = [Int32](unsafeUninitializedCapacity: n) { b, c in
            for i in 0..<n { b[i] = Int32(i) }
            c = n
        }
        guard n > 1 else { return order }
        var sortedKeys = keys
        var scratchOrder = [Int32](repeating: 0, count: n)
        var scratchKeys = [UInt64](repeating: 0, count: n)
        var histogram = [Int](repeating: 0, count: 1 << 16)
        for shift in stride(from: 0, to: 64, by: 16) {
            for i in 0..<histogram.count { histogram[i] = 0 }
            sortedKeys.withUnsafeBufferPointer { k in
                histogram.withUnsafeMutableBufferPointer { h in
                    for i in 0..<n { h[Int((k[i] >> UInt64(shift)) & 0xFFFF)] += 1 }
                }
            }
            if histogram.contains(n) { continue }  // one digit value for every key: nothing to do
            var total = 0
            for i in 0..<histogram.count {
                let c = histogram[i]
                histogram[i] = total
                total += c
            }
            sortedKeys.withUnsafeBufferPointer { k in
                order.withUnsafeBufferPointer { o in
                    scratchKeys.withUnsafeMutableBufferPointer { sk in
                        scratchOrder.withUnsafeMutableBufferPointer { so in
                            histogram.withUnsafeMutableBufferPointer { h in
                                for i in 0..<n {
                                    let d = Int((k[i] >> UInt64(shift)) & 0xFFFF)
                                    let at = h[d]
                                    h[d] = at + 1
                                    sk[at] = k[i]
                                    so[at] = o[i]
                                }
                            }
                        }
                    }
                }
            }
            swap(&sortedKeys, &scratchKeys)
            swap(&order, &scratchOrder)
        }
        return order
    }

    /// A detector scored but for its bootstrap intervals: the metrics of every slice, and the
    /// distinct slice memberships with what the bootstrap needs of their predictions.
    struct Prepared: Sendable {
        var detector: String
        var metrics: [BinaryMetrics]  // by slice id, without intervals
        var sliceKeys: [(scope: BreakdownScope, key: String)]
        var statusCounts: [String: Int]
        var coverage: Double
        var invalidReason: String?
        var memberships: [Membership]
    }

    /// Slices with the same samples share one interval (`Bootstrap` resamples by membership).
    struct Membership: Sendable {
        var ordinals: [Int32]
        var predictions: [ScoredPrediction]
        var sliceIDs: [Int]
    }

    /// Scores one detector's rows. `rows` in sample order; a row's ordinal is its position.
    static func score(detector: String, rows: some Sequence<ScoringRow>, rule: ScoringRule,
                      bootstrap: BootstrapSettings?) -> DetectorScore {
        let prepared = prepare(detector: detector, rows: rows, rule: rule, memberships: bootstrap != nil)
        let intervals = bootstrap.map { intervalsBySlice([prepared], parameters: rule.parameters, settings: $0)[0] }
        return assemble(prepared, intervals: intervals)
    }

    /// Every detector's intervals by slice id, each distinct membership resampled once for all
    /// the detectors that share it (the same indices, as each alone would draw), memberships in parallel.
    static func intervalsBySlice(_ prepared: [Prepared], parameters: SN34Parameters, settings: BootstrapSettings) -> [[ConfidenceInterval?]] {
        var groups: [[Int32]: [(detector: Int, membership: Int)]] = [:]
        for (d, p) in prepared.enumerated() {
            for (m, membership) in p.memberships.enumerated() { groups[membership.ordinals, default: []].append((d, m)) }
        }
        let list = Array(groups.values)
        let results = UnsafeMutableBufferPointer<[ConfidenceInterval?]>.allocate(capacity: list.count)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        nonisolated(unsafe) let slots = results
        DispatchQueue.concurrentPerform(iterations: list.count) { g in
            let members = list[g]
            let first = prepared[members[0].detector].memberships[members[0].membership]
            slots[g] = Bootstrap.sn34Intervals(members.map { prepared[$0.detector].memberships[$0.membership].predictions },
                                               parameters: parameters, settings: settings, members: first.ordinals.map(Int.init))
        }
        var intervals = prepared.map { [ConfidenceInterval?](repeating: nil, count: $0.metrics.count) }
        for (g, members) in list.enumerated() {
            for (j, (d, m)) in members.enumerated() {
                for id in prepared[d].memberships[m].sliceIDs { intervals[d][id] = slots[g][j] }
            }
        }
        return intervals
    }

    static func assemble(_ p: Prepared, intervals: [ConfidenceInterval?]?) -> DetectorScore {
        func metrics(_ id: Int) -> BinaryMetrics {
            var m = p.metrics[id]
            if let intervals, m.samples > 0 { m.sn34CI = intervals[id] }
            return m
        }
        var breakdowns: [BreakdownMetrics] = []
        for scope in BreakdownScope.allCases where scope != .overall {
            let ids = p.sliceKeys.indices.filter { p.sliceKeys[$0].scope == scope }.sorted { p.sliceKeys[$0].key < p.sliceKeys[$1].key }
            for id in ids { breakdowns.append(BreakdownMetrics(scope: scope, key: p.sliceKeys[id].key, metrics: metrics(id))) }
        }
        return DetectorScore(detector: p.detector, overall: metrics(0), statusCounts: p.statusCounts, coverage: p.coverage,
                             invalidated: p.invalidReason != nil, invalidReason: p.invalidReason, breakdowns: breakdowns)
    }

    static func prepare(detector: String, rows: some Sequence<ScoringRow>, rule: ScoringRule, memberships wanted: Bool) -> Prepared {
        var statusCounts = [Int](repeating: 0, count: OutcomeStatus.allCases.count)
        var scorable = 0, answered = 0, failures = 0

        // Slice ids: 0 is the overall slice; every (scope, key) gets the next id when first seen.
        var sliceKeys: [(scope: BreakdownScope, key: String)] = [(.overall, "all")]
        var datasetIDs: [String: Int32] = [:]
        var lastDataset = "", lastDatasetID: Int32 = -1
        var enumIDs = [[Int32]](repeating: [], count: 3)  // modality, media type, source: by allCases index
        enumIDs[0] = [Int32](repeating: -1, count: Modality.allCases.count)
        enumIDs[1] = [Int32](repeating: -1, count: MediaType.allCases.count)
        enumIDs[2] = [Int32](repeating: -1, count: SourceKind.allCases.count)
        func enumID(_ table: Int, _ index: Int, _ scope: BreakdownScope, _ key: String) -> Int32 {
            if enumIDs[table][index] < 0 {
                enumIDs[table][index] = Int32(sliceKeys.count)
                sliceKeys.append((scope, key))
            }
            return enumIDs[table][index]
        }

        // The scored predictions, columnar: label, p, predicted, ordinal and the 4 slice ids.
        var labels: [Int] = [], scores: [Double] = [], predicted: [Int] = [], ordinals: [Int] = []
        var slices: [Int32] = []  // 4 per prediction: modality, dataset, media type, source
        var sums = [SliceSums()]
        // Calibration bins, `binCount` per slice.
        let binsPerSlice = Calibration.binCount
        var binCount = [Int](repeating: 0, count: binsPerSlice), binSum = [Double](repeating: 0, count: binsPerSlice)
        var binAI = [Int](repeating: 0, count: binsPerSlice)

        for (ordinal, row) in rows.enumerated() {
            statusCounts[index(row.status)] += 1
            if row.inputSkipped { continue }
            scorable += 1
            if row.status == .ok && row.pAI != nil { answered += 1 } else { failures += 1 }
            guard let prediction = Scorer.prediction(for: row, rule: rule) else { continue }
            let m = enumID(0, index(row.modality), .modality, row.modality.rawValue)
            let d: Int32
            if lastDatasetID >= 0 && row.dataset == lastDataset {
                d = lastDatasetID
            } else if let known = datasetIDs[row.dataset] {
                d = known
            } else {
                d = Int32(sliceKeys.count)
                sliceKeys.append((.dataset, row.dataset))
                datasetIDs[row.dataset] = d
            }
            lastDataset = row.dataset
            lastDatasetID = d
            let t = enumID(1, index(row.mediaType), .mediaType, row.mediaType.rawValue)
            let s = enumID(2, index(row.sourceKind), .source, row.sourceKind.rawValue)
            while sums.count < sliceKeys.count {
                sums.append(SliceSums())
                binCount += [Int](repeating: 0, count: binsPerSlice)
                binSum += [Double](repeating: 0, count: binsPerSlice)
                binAI += [Int](repeating: 0, count: binsPerSlice)
            }

            let label = prediction.label, p = prediction.pAI
            let cell = Self.cell(label: label, predicted: prediction.predicted)
            let q = min(max(p, BinaryMetricsAccumulator.clip), 1 - BinaryMetricsAccumulator.clip)
            let y = Double(label)
            let squared = (q - y) * (q - y)
            let ce = -(y * Foundation.log(q) + (1 - y) * Foundation.log(1 - q))
            let bin = Calibration.bin(p, bins: Calibration.binCount)
            for k in 0..<5 {
                let id = k == 0 ? 0 : Int(k == 1 ? m : k == 2 ? d : k == 3 ? t : s)
                sums[id].count += 1
                switch cell {
                case 0: sums[id].tp += 1
                case 1: sums[id].tn += 1
                case 2: sums[id].fp += 1
                default: sums[id].fn += 1
                }
                sums[id].brierSum += squared
                sums[id].ceSum += ce
                binCount[id * binsPerSlice + bin] += 1
                binSum[id * binsPerSlice + bin] += p
                binAI[id * binsPerSlice + bin] += label
            }
            labels.append(label); scores.append(p); predicted.append(prediction.predicted); ordinals.append(ordinal)
            slices.append(m); slices.append(d); slices.append(t); slices.append(s)
        }

        // ROC AUC of every slice from one ascending sort of the scores.
        let keys = scores.map(sortKey)
        let order = sortedIndices(keys)
        for index in order {
            let i = Int(index)
            let key = keys[i]
            let positive = labels[i] == 1
            for k in 0..<5 {
                let id = k == 0 ? 0 : Int(slices[4 * i + k - 1])
                if sums[id].seen > 0 && sums[id].groupKey != key { closeGroup(&sums[id]) }
                if sums[id].seen == sums[id].groupStart { sums[id].groupKey = key }
                sums[id].seen += 1
                if positive { sums[id].groupPositives += 1 }
            }
        }
        for id in sums.indices where sums[id].seen > 0 { closeGroup(&sums[id]) }

        // The distinct memberships, for the bootstrap.
        var memberships: [Membership] = []
        if wanted {
            var members = [[Int32]](repeating: [], count: sums.count)
            for id in members.indices { members[id].reserveCapacity(sums[id].count) }
            for i in 0..<labels.count {
                members[0].append(Int32(i))
                for k in 0..<4 { members[Int(slices[4 * i + k])].append(Int32(i)) }
            }
            var seen: [[Int32]: Int] = [:]
            for id in sums.indices where sums[id].count > 0 {
                if let m = seen[members[id]] {
                    memberships[m].sliceIDs.append(id)
                    continue
                }
                seen[members[id]] = memberships.count
                memberships.append(Membership(
                    ordinals: members[id].map { Int32(truncatingIfNeeded: ordinals[Int($0)]) },
                    predictions: members[id].map { ScoredPrediction(label: labels[Int($0)], pAI: scores[Int($0)], predicted: predicted[Int($0)]) },
                    sliceIDs: [id]))
            }
        }

        let metrics = sums.indices.map { id -> BinaryMetrics in
            let bins = (0..<binsPerSlice).map { b in
                let at = id * binsPerSlice + b
                return CalibrationBin(lower: Double(b) / Double(binsPerSlice), upper: Double(b + 1) / Double(binsPerSlice),
                                      count: binCount[at], meanPredicted: binCount[at] == 0 ? nil : binSum[at] / Double(binCount[at]),
                                      observedAIShare: binCount[at] == 0 ? nil : Double(binAI[at]) / Double(binCount[at]))
            }
            return finish(sums[id], bins: bins, parameters: rule.parameters, interval: nil)
        }
        let invalid = rule.onFailure == .invalidate && failures > 0
        return Prepared(
            detector: detector, metrics: metrics, sliceKeys: sliceKeys,
            statusCounts: Dictionary(uniqueKeysWithValues: OutcomeStatus.allCases.enumerated().map { ($1.rawValue, statusCounts[$0]) }),
            coverage: scorable == 0 ? 0 : Double(answered) / Double(scorable),
            invalidReason: invalid ? "\(failures) sample(s) failed and on_failure is invalidate" : nil,
            memberships: memberships)
    }

    /// Adds the current tie group's positives at the group's average (1-based) rank.
    @inline(__always)
    static func closeGroup(_ s: inout SliceSums) {
        let averageRank = Double(s.groupStart + s.seen - 1 + 2) / 2
        s.rankSum += averageRank * Double(s.groupPositives)
        s.groupStart = s.seen
        s.groupPositives = 0
    }

    static func finish(_ s: SliceSums, bins: [CalibrationBin], parameters: SN34Parameters, interval: ConfidenceInterval?) -> BinaryMetrics {
        guard s.count > 0 else { return .empty }
        let n = Double(s.count)
        let mcc = SN34.mcc(tp: s.tp, tn: s.tn, fp: s.fp, fn: s.fn)
        let brier = s.brierSum / n
        let positives = s.tp + s.fn, negatives = s.tn + s.fp
        var auc: Double?
        if positives > 0 && negatives > 0 {
            let p = Double(positives), q = Double(negatives)
            auc = (s.rankSum - p * (p + 1) / 2) / (p * q)
        }
        return BinaryMetrics(
            samples: s.count, truePositives: s.tp, trueNegatives: s.tn, falsePositives: s.fp, falseNegatives: s.fn,
            accuracy: Double(s.tp + s.tn) / n, mcc: mcc, brier: brier, crossEntropy: s.ceSum / n,
            sn34: SN34.score(mcc: mcc, brier: brier, parameters: parameters),
            auc: auc, ece: Calibration.ece(bins),
            recallReal: negatives == 0 ? nil : Double(s.tn) / Double(negatives),
            recallAI: positives == 0 ? nil : Double(s.tp) / Double(positives),
            sn34CI: interval)
    }
}
