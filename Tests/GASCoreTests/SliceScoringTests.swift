import Foundation
import Testing
@testable import GASCore

/// The one-pass scorer must give exactly (bit for bit) the numbers of the slice-by-slice reference
/// (`BinaryMetricsAccumulator`), with ties, failures, input skips, several scopes and the bootstrap.
@Suite struct SliceScoringTests {
    /// `float32`: scores that are float32 values (as detectors send), so the AUC pass sorts packed
    /// words; otherwise full doubles, sorted as keys with a side payload.
    func rows(seed: UInt64, count: Int, coarse: Bool, float32: Bool = false) -> [ScoringRow] {
        var g = SplitMix64(seed: seed)
        let datasets = ["a-real", "b-synth", "c-semi", "d-gen", "e-real"]
        return (0..<count).map { _ in
            let d = g.nextInt(below: datasets.count)
            let media: MediaType = [.real, .synthetic, .semisynthetic, .synthetic, .real][d]
            let source: SourceKind = [.real, .synthetic, .synthetic, .generator, .real][d]
            let modality: Modality = [.image, .image, .video, .audio, .audio][d]
            var p = g.nextUnit()
            if coarse { p = Double(g.nextInt(below: 7)) / 6 }  // heavy ties, 0 and 1 and 0.5 included
            if float32 { p = Double(Float(p)) }
            if g.nextInt(below: 50) == 0 { p = -0.0 }
            let status: OutcomeStatus = g.nextInt(below: 20) == 0 ? .error : (g.nextInt(below: 40) == 0 ? .skipped : .ok)
            return ScoringRow(label: media.label, dataset: datasets[d], mediaType: media, sourceKind: source, modality: modality,
                              status: status, pAI: status == .ok ? p : nil, inputSkipped: g.nextInt(below: 30) == 0)
        }
    }

    @Test(arguments: [(1, 500, false, false), (2, 700, true, false), (3, 3, false, false), (4, 0, false, false),
                      (5, 600, false, true), (6, 800, true, true), (7, 1, false, true)] as [(UInt64, Int, Bool, Bool)])
    func equalsTheSliceBySliceReference(seed: UInt64, count: Int, coarse: Bool, float32: Bool) {
        let r = rows(seed: seed, count: count, coarse: coarse, float32: float32)
        for rule in [ScoringRule(), ScoringRule(onFailure: .exclude), ScoringRule(onFailure: .invalidate)] {
            for bootstrap in [nil, BootstrapSettings(resamples: 50, seed: seed)] as [BootstrapSettings?] {
                let fast = Scorer.score(detector: "x", rows: r, rule: rule, bootstrap: bootstrap)
                let reference = Scorer.scoreBySlices(detector: "x", rows: r, rule: rule, bootstrap: bootstrap)
                #expect(fast == reference)
            }
        }
    }

    /// Slices over `Bootstrap.largeSampleThreshold` take the large-sample bootstrap in both the
    /// engine and the reference; the smaller dataset slices stay exact.
    @Test func largeSlicesEqualTheReferenceToo() {
        let r = rows(seed: 8, count: 60_000, coarse: false, float32: true)
        let settings = BootstrapSettings(resamples: 30, seed: 8)
        let fast = Scorer.score(detector: "x", rows: r, rule: ScoringRule(), bootstrap: settings)
        #expect(fast == Scorer.scoreBySlices(detector: "x", rows: r, rule: ScoringRule(), bootstrap: settings))
        #expect(fast.overall.samples >= Bootstrap.largeSampleThreshold)
        #expect(fast.breakdowns.contains { $0.metrics.samples < Bootstrap.largeSampleThreshold && $0.metrics.sn34CI != nil })
    }

    /// 100,000 rows or more are read in two halves on two threads and merged: datasets, modalities
    /// and combos first seen in the second half must land where one pass would put them.
    @Test func twoHalvesEqualOnePass() {
        let r = rows(seed: 13, count: 150_000, coarse: false, float32: true).sorted { $0.dataset < $1.dataset }
        #expect(Set(r.prefix(75_000).map(\.dataset)) != Set(r.suffix(75_000).map(\.dataset)))
        for rule in [ScoringRule(), ScoringRule(onFailure: .exclude)] {
            #expect(Scorer.score(detector: "x", rows: r, rule: rule) == Scorer.scoreBySlices(detector: "x", rows: r, rule: rule))
            // The same rows through a sequence without contiguous storage (one pass).
            #expect(Scorer.score(detector: "x", rows: r.lazy.map { $0 }, rule: rule) == Scorer.score(detector: "x", rows: r, rule: rule))
            // And made one at a time by a row source (in halves, as an array is read).
            #expect(Scorer.score(detector: "x", rows: ScoringRowSource(count: r.count) { r[$0] }, rule: rule)
                    == Scorer.score(detector: "x", rows: r, rule: rule))
        }
    }

    @Test func packedRadixSortOrdersByItsBitRangeAndIsStable() {
        var g = SplitMix64(seed: 12)
        for (from, bits) in [(0, 64), (8, 20), (3, 34), (40, 24), (1, 1)] {
            let words = (0..<20_000).map { _ in g.next() }
            var sorted = words
            RadixSort.sort(&sorted, from: from, bits: bits)
            let mask: UInt64 = bits == 64 ? .max : (1 << UInt64(bits)) - 1
            func key(_ w: UInt64) -> UInt64 { (w >> UInt64(from)) & mask }
            // Stable: equal keys keep their input order, so it equals Swift's stable sort by key.
            let expected = words.enumerated().sorted { (key($0.element), $0.offset) < (key($1.element), $1.offset) }.map(\.element)
            let same = sorted == expected
            #expect(same, "from \(from) bits \(bits)")
        }
    }

    @Test func detectorsScoredTogetherEqualEachAlone() {
        // Same samples, different answers: paired bootstrap; a third detector misses some samples.
        let a = rows(seed: 21, count: 400, coarse: false)
        let b = rows(seed: 22, count: 400, coarse: true).enumerated().map { i, r in
            var r = r
            r.label = a[i].label; r.dataset = a[i].dataset; r.mediaType = a[i].mediaType; r.sourceKind = a[i].sourceKind
            r.modality = a[i].modality; r.inputSkipped = a[i].inputSkipped
            return r
        }
        let c = Array(a.prefix(300))
        let sets = [a, b, c]
        let settings = BootstrapSettings(resamples: 40, seed: 77)
        let together = Scorer.score(detectors: ["a", "b", "c"], rule: ScoringRule(), bootstrap: settings) { sets[$0] }
        #expect(Scorer.score(detectors: ["a", "b", "c"], rule: ScoringRule(), bootstrap: settings) { ScoringRowSource(sets[$0]) } == together)
        for (i, name) in ["a", "b", "c"].enumerated() {
            #expect(together[i] == Scorer.scoreBySlices(detector: name, rows: sets[i], rule: ScoringRule(), bootstrap: settings))
        }
    }

    @Test func radixOrderIsAscendingAndKeepsNegativeZeroWithZero() {
        var g = SplitMix64(seed: 9)
        let values = (0..<5000).map { i in i % 7 == 0 ? -g.nextUnit() * 1e6 : (i % 11 == 0 ? -0.0 : g.nextUnit()) }
        let keys = values.map(SliceScoring.sortKey)
        let order = SliceScoring.sortedIndices(keys).map { values[Int($0)] }
        #expect(order == values.sorted())
        #expect(SliceScoring.sortKey(-0.0) == SliceScoring.sortKey(0.0))
    }

    @Test func caseIndexesFollowAllCases() {
        #expect(OutcomeStatus.allCases.enumerated().allSatisfy { SliceScoring.index($1) == $0 })
        #expect(Modality.allCases.enumerated().allSatisfy { SliceScoring.index($1) == $0 })
        #expect(MediaType.allCases.enumerated().allSatisfy { SliceScoring.index($1) == $0 })
        #expect(SourceKind.allCases.enumerated().allSatisfy { SliceScoring.index($1) == $0 })
    }

    @Test func fastModuloEqualsTheRemainder() {
        var g = SplitMix64(seed: 5)
        let divisors: [UInt64] = [1, 2, 3, 7, 10, 1000, 999_983, 1 << 20, (1 << 32) - 1, 1 << 32, (1 << 40) + 7, UInt64.max, UInt64.max - 1]
        for d in divisors {
            let m = FastModulo(d)
            for x in [0, 1, d &- 1, d, d &+ 1, UInt64.max, UInt64.max - 1] + (0..<2000).map({ _ in g.next() }) {
                #expect(m.remainder(x) == x % d, "x=\(x) d=\(d)")
            }
        }
        var a = SplitMix64(seed: 11), b = SplitMix64(seed: 11)
        let draw = SplitMix64.BoundedDraw(below: 12345)
        for _ in 0..<1000 { #expect(draw.next(&a) == b.nextInt(below: 12345)) }
    }
}
