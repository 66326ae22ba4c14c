import Dispatch
import Foundation

// The scorer's engine: every slice of every scope in one pass over the rows, one sort for every
// slice's ROC AUC, and one bootstrap per distinct slice membership.
//
// The numbers are bit for bit those of `BinaryMetricsAccumulator` slice by slice (the reference
// definition, kept for single slices): sums run in row order within each slice, AUC rank sums are
// exact (half-integers far below 2^52), ECE bins fill in row order.

/// Per-slice totals: counts, and the floating-point sums in row order.
struct SliceSums {
    var count = 0
    var tp = 0, tn = 0, fp = 0, fn = 0
    var brierSum = 0.0, ceSum = 0.0
    var rankSum = 0.0
}

/// A slice's ROC AUC state while the scores are walked in ascending order: the sum of its
/// positives' (1-based, tie-averaged) ranks within the slice.
struct AUCWalk {
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
        var input: BootstrapInput
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
        let slots = Parallel.map(list.count) { g in
            let members = list[g]
            let first = prepared[members[0].detector].memberships[members[0].membership]
            return Bootstrap.sn34Intervals(members.map { prepared[$0.detector].memberships[$0.membership].input },
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

    /// Scores one detector's rows: the metrics of every slice, and (`wanted`) the distinct slice
    /// memberships for the bootstrap.
    ///
    /// 1. One pass over the rows turns each scored prediction into columns: p, label and predicted,
    ///    and its *combo* (its distinct (modality, dataset, media type, source), which names its 5
    ///    slices).
    /// 2. Two halves in parallel: the sums (integer counts per combo; the floating-point sums per
    ///    slice in row order, as the accumulator adds them) and the ROC AUC walk (one radix sort of
    ///    (score, combo, label) packed into 64 bits when they fit, then one sequential walk).
    static func prepare(detector: String, rows: some Sequence<ScoringRow>, rule: ScoringRule, memberships wanted: Bool) -> Prepared {
        var builder = ColumnBuilder(rule: rule, keepOrdinals: wanted)
        /// Two halves on two threads, the second merged into the first (the same ids as one pass).
        func inHalves(count: Int, row: (Int) -> ScoringRow) {
            let half = count >= 100_000 ? count / 2 : count
            let (first, second) = inParallel({ () -> ColumnBuilder in
                var b = ColumnBuilder(rule: rule, keepOrdinals: wanted)
                for ordinal in 0..<half { b.add(row(ordinal), ordinal: ordinal) }
                return b
            }, { () -> ColumnBuilder in
                var b = ColumnBuilder(rule: rule, keepOrdinals: wanted)
                for ordinal in half..<count { b.add(row(ordinal), ordinal: ordinal) }
                return b
            })
            builder = first
            builder.append(second)
        }
        if let source = rows as? ScoringRowSource {
            inHalves(count: source.count, row: source.row)
        } else if rows.withContiguousStorageIfAvailable({ buffer in inHalves(count: buffer.count) { buffer[$0] } }) == nil {
            var ordinal = 0
            for row in rows {
                builder.add(row, ordinal: ordinal)
                ordinal += 1
            }
        }
        let (statusCounts, scorable, answered, failures) = (builder.statusCounts, builder.scorable, builder.answered, builder.failures)
        let (sliceKeys, comboSlices, scores, codes) = (builder.sliceKeys, builder.comboSlices, builder.scores, builder.codes)
        let (combos, ordinals, keyAnd, keyOr) = (builder.combos, builder.ordinals, builder.keyAnd, builder.keyOr)
        builder = ColumnBuilder(rule: rule, keepOrdinals: false)

        let sliceCount = sliceKeys.count, comboCount = comboSlices.count / 5
        let binsPerSlice = Calibration.binCount
        // Integer counts per combo (order-free), floating-point sums per slice in row order.
        let (inputs, comboSliceIDs) = (Columns(scores: scores, codes: codes, combos: combos), comboSlices)
        let (totals, walks) = inParallel({ () -> Totals in
            var t = Totals(combos: comboCount, slices: sliceCount)
            accumulate(scores: inputs.scores, codes: inputs.codes, combos: inputs.combos, comboSlices: comboSliceIDs, cells: &t.comboCells,
                       binCount: &t.comboBinCount, binAI: &t.comboBinAI, brierSum: &t.brierSum, ceSum: &t.ceSum, binSum: &t.binSum)
            return t
        }, { () -> [AUCWalk] in
            var walks = [AUCWalk](repeating: AUCWalk(), count: sliceCount)
            walkInScoreOrder(scores: inputs.scores, codes: inputs.codes, combos: inputs.combos, comboSlices: comboSliceIDs,
                             keyAnd: keyAnd, keyOr: keyOr, walks: &walks)
            return walks
        })
        let (comboCells, comboBinCount, comboBinAI) = (totals.comboCells, totals.comboBinCount, totals.comboBinAI)
        let (brierSum, ceSum, binSum) = (totals.brierSum, totals.ceSum, totals.binSum)

        // The distinct memberships, for the bootstrap. The combos partition the rows, so slices
        // with the same combos (of at least one row each) have the same rows: slices are told
        // apart by their combos first, and only each distinct membership's rows are gathered (not
        // every slice's, five row numbers per row at once).
        var memberships: [Membership] = []
        if wanted {
            // Every row is counted in one of its combo's four confusion cells.
            let comboRows = (0..<comboCount).map { c -> Int in comboCells[(c * 4)..<(c * 4 + 4)].reduce(0, +) }
            var combosOfSlice = [[Int32]](repeating: [], count: sliceCount)
            for c in 0..<comboCount where comboRows[c] > 0 {
                for k in 0..<5 { combosOfSlice[Int(comboSlices[c * 5 + k])].append(Int32(c)) }
            }
            var seen: [[Int32]: Int] = [:]
            for id in 0..<sliceCount where !combosOfSlice[id].isEmpty {
                if let m = seen[combosOfSlice[id]] {
                    memberships[m].sliceIDs.append(id)
                    continue
                }
                seen[combosOfSlice[id]] = memberships.count
                var inSlice = [Bool](repeating: false, count: comboCount)
                for c in combosOfSlice[id] { inSlice[Int(c)] = true }
                var rows: [Int32] = []
                rows.reserveCapacity(combosOfSlice[id].reduce(0) { $0 + comboRows[Int($1)] })
                for (i, combo) in combos.enumerated() where inSlice[Int(combo)] { rows.append(Int32(i)) }
                memberships.append(Membership(
                    ordinals: rows.map { ordinals[Int($0)] },
                    input: BootstrapInput(count: rows.count) { j in
                        let code = codes[Int(rows[j])]
                        return ScoredPrediction(label: Int(code & 1), pAI: scores[Int(rows[j])], predicted: Int(code >> 1))
                    },
                    sliceIDs: [id]))
            }
        }

        let metrics = (0..<sliceCount).map { id -> BinaryMetrics in
            var sums = SliceSums()
            var binCount = [Int](repeating: 0, count: binsPerSlice), binAI = [Int](repeating: 0, count: binsPerSlice)
            for c in 0..<comboCount where (0..<5).contains(where: { comboSlices[c * 5 + $0] == Int32(id) }) {
                sums.tp += comboCells[c * 4]; sums.tn += comboCells[c * 4 + 1]
                sums.fp += comboCells[c * 4 + 2]; sums.fn += comboCells[c * 4 + 3]
                for b in 0..<binsPerSlice {
                    binCount[b] += comboBinCount[c * binsPerSlice + b]
                    binAI[b] += comboBinAI[c * binsPerSlice + b]
                }
            }
            sums.count = sums.tp + sums.tn + sums.fp + sums.fn
            sums.brierSum = brierSum[id]
            sums.ceSum = ceSum[id]
            sums.rankSum = walks[id].rankSum
            let bins = (0..<binsPerSlice).map { b in
                CalibrationBin(lower: Double(b) / Double(binsPerSlice), upper: Double(b + 1) / Double(binsPerSlice),
                               count: binCount[b], meanPredicted: binCount[b] == 0 ? nil : binSum[id * binsPerSlice + b] / Double(binCount[b]),
                               observedAIShare: binCount[b] == 0 ? nil : Double(binAI[b]) / Double(binCount[b]))
            }
            return finish(sums, bins: bins, parameters: rule.parameters, interval: nil)
        }
        let invalid = rule.onFailure == .invalidate && failures > 0
        return Prepared(
            detector: detector, metrics: metrics, sliceKeys: sliceKeys,
            statusCounts: Dictionary(uniqueKeysWithValues: OutcomeStatus.allCases.enumerated().map { ($1.rawValue, statusCounts[$0]) }),
            coverage: scorable == 0 ? 0 : Double(answered) / Double(scorable),
            invalidReason: invalid ? "\(failures) sample(s) failed and on_failure is invalidate" : nil,
            memberships: memberships)
    }

    /// Pass 1: rows to columns. Not generic, so the per-row work is specialised whatever sequence
    /// the rows come in.
    struct ColumnBuilder {
        let rule: ScoringRule
        let keepOrdinals: Bool
        var statusCounts = [Int](repeating: 0, count: OutcomeStatus.allCases.count)
        var scorable = 0, answered = 0, failures = 0
        // Slice ids: 0 is the overall slice; every (scope, key) gets the next id when first seen.
        var sliceKeys: [(scope: BreakdownScope, key: String)] = [(.overall, "all")]
        var datasets = NameTable()
        var datasetSlice: [Int32] = []  // by dataset table id
        var enumIDs = [Int32](repeating: -1, count: 9)  // modality, media type, source: 3 each, by allCases index
        // Combos: by (dataset table id, modality, media type, source) -> combo id; each combo's 5 slice ids.
        var comboOf: [Int32] = []
        var comboSlices: [Int32] = []
        var comboAt: [Int] = []  // each combo's index in `comboOf`
        var scores: [Double] = [], codes: [UInt8] = [], combos: [Int32] = [], ordinals: [Int32] = []
        var keyAnd = UInt64.max, keyOr: UInt64 = 0
        static let enumCombos = 27

        init(rule: ScoringRule, keepOrdinals: Bool) {
            self.rule = rule
            self.keepOrdinals = keepOrdinals
        }

        mutating func enumID(_ at: Int, _ scope: BreakdownScope, _ key: String) -> Int32 {
            if enumIDs[at] < 0 {
                enumIDs[at] = Int32(sliceKeys.count)
                sliceKeys.append((scope, key))
            }
            return enumIDs[at]
        }

        /// The combo at `at` (dataset table id * 27 + modality * 9 + media type * 3 + source),
        /// creating it and any slice it is first to name.
        mutating func newCombo(_ at: Int) -> Int32 {
            if at >= comboOf.count { comboOf += [Int32](repeating: -1, count: at + 1 - comboOf.count + Self.enumCombos) }
            if comboOf[at] >= 0 { return comboOf[at] }
            let dataset = at / Self.enumCombos, e = at % Self.enumCombos
            let (mi, ti, si) = (e / 9, e / 3 % 3, e % 3)
            let m = enumID(mi, .modality, Modality.allCases[mi].rawValue)
            let t = enumID(3 + ti, .mediaType, MediaType.allCases[ti].rawValue)
            let s = enumID(6 + si, .source, SourceKind.allCases[si].rawValue)
            let combo = Int32(comboAt.count)
            comboOf[at] = combo
            comboAt.append(at)
            comboSlices += [0, m, datasetSlice[dataset], t, s]
            return combo
        }

        /// Appends the rows `other` built (the rows after this builder's): the result is what one
        /// builder would have made of all of them.
        mutating func append(_ other: ColumnBuilder) {
            for i in statusCounts.indices { statusCounts[i] += other.statusCounts[i] }
            scorable += other.scorable
            answered += other.answered
            failures += other.failures
            let datasetMap = (0..<other.datasets.index.count).map { otherID -> Int in
                let name = Array(other.datasets.index.key(otherID))
                let id = name.withUnsafeBufferPointer { datasets.lookup($0) }
                if id == datasetSlice.count {
                    datasetSlice.append(Int32(sliceKeys.count))
                    sliceKeys.append((.dataset, String(decoding: name, as: UTF8.self)))
                }
                return id
            }
            let comboMap = other.comboAt.map { at in
                newCombo(datasetMap[at / Self.enumCombos] * Self.enumCombos + at % Self.enumCombos)
            }
            scores += other.scores
            codes += other.codes
            combos.reserveCapacity(combos.count + other.combos.count)
            for c in other.combos { combos.append(comboMap[Int(c)]) }
            ordinals += other.ordinals
            keyAnd &= other.keyAnd
            keyOr |= other.keyOr
        }

        @inline(__always)
        mutating func add(_ row: ScoringRow, ordinal: Int) {
            statusCounts[index(row.status)] += 1
            if row.inputSkipped { return }
            scorable += 1
            if row.status == .ok && row.pAI != nil { answered += 1 } else { failures += 1 }
            guard let prediction = Scorer.prediction(for: row, rule: rule) else { return }
            let dataset = datasets.id(of: row.dataset)
            if dataset == datasetSlice.count {
                datasetSlice.append(Int32(sliceKeys.count))
                sliceKeys.append((.dataset, row.dataset))
            }
            let mi = index(row.modality), ti = index(row.mediaType), si = index(row.sourceKind)
            let at = dataset &* Self.enumCombos &+ (mi &* 3 &+ ti) &* 3 &+ si
            let combo = at < comboOf.count && comboOf[at] >= 0 ? comboOf[at] : newCombo(at)
            let key = sortKey(prediction.pAI)
            keyAnd &= key
            keyOr |= key
            scores.append(prediction.pAI)
            codes.append(UInt8(truncatingIfNeeded: prediction.label & 1) | (prediction.predicted == 1 ? 2 : 0))
            combos.append(combo)
            if keepOrdinals { ordinals.append(Int32(truncatingIfNeeded: ordinal)) }
        }
    }

    /// Names to dense ids (0, 1, ... in order of first appearance) by their UTF-8 bytes, the last
    /// one found checked first: cheaper per row than a `[String: Int]` lookup, which the dataset
    /// column needs on every row.
    struct NameTable {
        var index = ByteKeyIndex()
        var lastID = -1

        /// The id of `name`, a new one if it was never seen.
        @inline(__always)
        mutating func id(of name: String) -> Int {
            if let id = name.utf8.withContiguousStorageIfAvailable({ lookup($0) }) { return id }
            var copy = name
            return copy.withUTF8 { lookup($0) }
        }

        @inline(__always)
        mutating func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
            if lastID >= 0 && index.key(lastID, equals: bytes) { return lastID }
            lastID = index.insert(bytes).id
            return lastID
        }
    }

    /// A detector's scored predictions, columnar.
    struct Columns: Sendable {
        var scores: [Double]
        var codes: [UInt8]  // label | predicted << 1
        var combos: [Int32]
    }

    /// What the sums pass produces: counts per combo, floating-point sums per slice.
    struct Totals: Sendable {
        var comboCells: [Int], comboBinCount: [Int], comboBinAI: [Int]
        var brierSum: [Double], ceSum: [Double], binSum: [Double]
        init(combos: Int, slices: Int) {
            comboCells = [Int](repeating: 0, count: combos * 4)
            comboBinCount = [Int](repeating: 0, count: combos * Calibration.binCount)
            comboBinAI = comboBinCount
            brierSum = [Double](repeating: 0, count: slices)
            ceSum = brierSum
            binSum = [Double](repeating: 0, count: slices * Calibration.binCount)
        }
    }

    /// Runs `a` and `b` on two threads and returns both results.
    static func inParallel<A: Sendable, B: Sendable>(_ a: () -> A, _ b: () -> B) -> (A, B) {
        nonisolated(unsafe) var first: A?
        nonisolated(unsafe) var second: B?
        withoutActuallyEscaping(a) { a in
            withoutActuallyEscaping(b) { b in
                nonisolated(unsafe) let (a, b) = (a, b)
                DispatchQueue.concurrentPerform(iterations: 2) { i in
                    if i == 0 { first = a() } else { second = b() }
                }
            }
        }
        return (first!, second!)
    }

    /// The sums pass: counts per combo, and per slice the Brier and cross-entropy sums and the
    /// calibration bins' p sums, in row order (bit for bit `BinaryMetricsAccumulator`'s).
    static func accumulate(scores: [Double], codes: [UInt8], combos: [Int32], comboSlices: [Int32], cells: inout [Int],
                           binCount: inout [Int], binAI: inout [Int], brierSum: inout [Double], ceSum: inout [Double],
                           binSum: inout [Double]) {
        let bins = Calibration.binCount
        scores.withUnsafeBufferPointer { scores in
        codes.withUnsafeBufferPointer { codes in
        combos.withUnsafeBufferPointer { combos in
        comboSlices.withUnsafeBufferPointer { comboSlices in
        cells.withUnsafeMutableBufferPointer { cells in
        binCount.withUnsafeMutableBufferPointer { binCount in
        binAI.withUnsafeMutableBufferPointer { binAI in
        brierSum.withUnsafeMutableBufferPointer { brierSum in
        ceSum.withUnsafeMutableBufferPointer { ceSum in
        binSum.withUnsafeMutableBufferPointer { binSum in
            for i in 0..<scores.count {
                let p = scores[i], code = codes[i], combo = Int(combos[i])
                let label = Int(code & 1), predicted = Int(code >> 1)
                let q = BinaryMetricsAccumulator.clipped(p)
                let squared = BinaryMetricsAccumulator.squaredError(label: label, clipped: q)
                let ce = BinaryMetricsAccumulator.crossEntropy(label: label, clipped: q)
                let bin = Calibration.bin(p, bins: bins)
                cells[combo &* 4 &+ Int(cell(label: label, predicted: predicted))] &+= 1
                binCount[combo &* bins &+ bin] &+= 1
                binAI[combo &* bins &+ bin] &+= label
                for k in 0..<5 {
                    let id = Int(comboSlices[combo &* 5 &+ k])
                    brierSum[id] += squared
                    ceSum[id] += ce
                    binSum[id &* bins &+ bin] += p
                }
            }
        }}}}}}}}}}
    }

    /// The AUC pass: sorts (score key, combo, label) ascending by score and walks them once,
    /// every slice of a combo collecting its rank sum. When the bits in which the keys differ and
    /// the payload fit in 64 bits together (always, for scores that are float32 values), one
    /// packed word per prediction is sorted; otherwise keys and payloads are sorted side by side.
    static func walkInScoreOrder(scores: [Double], codes: [UInt8], combos: [Int32], comboSlices: [Int32],
                                 keyAnd: UInt64, keyOr: UInt64, walks: inout [AUCWalk]) {
        let n = scores.count
        guard n > 0 else { return }
        let varying = keyAnd ^ keyOr  // bits that are not the same in every key
        let low = varying == 0 ? 0 : varying.trailingZeroBitCount
        let span = varying == 0 ? 0 : 64 - varying.leadingZeroBitCount - low
        let comboCount = comboSlices.count / 5
        let payloadBits = max(1, (UInt64(comboCount) << 1).bitWidth - (UInt64(comboCount) << 1).leadingZeroBitCount)
        let payloadMask: UInt64 = (1 << UInt64(payloadBits)) - 1
        let keyMask: UInt64 = span >= 64 ? .max : (1 << UInt64(span)) - 1

        comboSlices.withUnsafeBufferPointer { comboSlices in
        walks.withUnsafeMutableBufferPointer { walks in
            @inline(__always) func visit(key: UInt64, payload: UInt64) {
                let base = Int(payload >> 1) &* 5
                let positive = payload & 1 == 1
                for k in 0..<5 {
                    let id = Int(comboSlices[base &+ k])
                    if walks[id].seen > 0 && walks[id].groupKey != key { closeGroup(&walks[id]) }
                    if walks[id].seen == walks[id].groupStart { walks[id].groupKey = key }
                    walks[id].seen &+= 1
                    if positive { walks[id].groupPositives &+= 1 }
                }
            }
            if span + payloadBits <= 64 {
                var packed = [UInt64](unsafeUninitializedCapacity: n) { b, c in
                    scores.withUnsafeBufferPointer { s in
                        codes.withUnsafeBufferPointer { codes in
                            combos.withUnsafeBufferPointer { combos in
                                for i in 0..<n {
                                    let key = (sortKey(s[i]) >> UInt64(low)) & keyMask
                                    b[i] = key << UInt64(payloadBits) | UInt64(combos[i]) << 1 | UInt64(codes[i] & 1)
                                }
                            }
                        }
                    }
                    c = n
                }
                RadixSort.sort(&packed, from: payloadBits, bits: span)
                packed.withUnsafeBufferPointer { packed in
                    for word in packed { visit(key: word >> UInt64(payloadBits), payload: word & payloadMask) }
                }
            } else {
                let keys = scores.map(sortKey)
                let order = sortedIndices(keys)
                for index in order {
                    let i = Int(index)
                    visit(key: keys[i], payload: UInt64(combos[i]) << 1 | UInt64(codes[i] & 1))
                }
            }
            for id in walks.indices where walks[id].seen > 0 { closeGroup(&walks[id]) }
        }}
    }

    /// Adds the current tie group's positives at the group's average (1-based) rank.
    @inline(__always)
    static func closeGroup(_ s: inout AUCWalk) {
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

/// LSD radix sort of 64-bit words by a bit range (the words' other bits ride along).
enum RadixSort {
    /// Sorts `words` ascending by bits [from, from + bits), stable, in passes of at most 12 bits.
    static func sort(_ words: inout [UInt64], from: Int, bits: Int) {
        let n = words.count
        guard n > 1, bits > 0 else { return }
        let passes = (bits + 11) / 12
        let digitBits = (bits + passes - 1) / passes
        let radix = 1 << digitBits
        var scratch = [UInt64](repeating: 0, count: n)
        var histograms = [Int](repeating: 0, count: passes * radix)
        words.withUnsafeBufferPointer { w in
            histograms.withUnsafeMutableBufferPointer { h in
                let masks = (0..<passes).map { UInt64((1 << min(digitBits, bits - $0 * digitBits)) - 1) }
                for i in 0..<n {
                    let word = w[i]
                    for p in 0..<passes { h[p &* radix &+ Int((word >> UInt64(from + p * digitBits)) & masks[p])] &+= 1 }
                }
            }
        }
        for p in 0..<passes {
            let shift = UInt64(from + p * digitBits)
            let mask = UInt64((1 << min(digitBits, bits - p * digitBits)) - 1)  // the last digit may be narrower
            let skip = histograms.withUnsafeMutableBufferPointer { h -> Bool in
                var total = 0
                for d in 0..<radix {
                    let c = h[p &* radix &+ d]
                    if c == n { return true }  // one digit value for every word: nothing to do
                    h[p &* radix &+ d] = total
                    total &+= c
                }
                return false
            }
            if skip { continue }
            words.withUnsafeBufferPointer { w in
                scratch.withUnsafeMutableBufferPointer { s in
                    histograms.withUnsafeMutableBufferPointer { h in
                        let offsets = h.baseAddress! + p * radix
                        for i in 0..<n {
                            let word = w[i]
                            let d = Int((word >> shift) & mask)
                            let at = offsets[d]
                            offsets[d] = at &+ 1
                            s[at] = word
                        }
                    }
                }
            }
            swap(&words, &scratch)
        }
    }
}
