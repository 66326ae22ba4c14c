import Testing
@testable import GASCore

/// Whole weight vectors from carried scores, checked against hand-computed raw splits and the
/// SDK's u16 conversion of those splits (see WeightsBittensorTests for the SDK literals).
@Suite struct WeightsLanesTests {
    static func neurons(_ n: Int) -> [Neuron] { (0..<n).map { Neuron(uid: $0, hotkey: "hk\($0)") } }

    static func inputs(neurons: [Neuron], kings: [String: [String]] = [:], generators: [String: Double] = [:],
                       split: WeightSplit = WeightSplit(), rule: DiscriminatorRule = .kingOfTheHill, shares: [Double] = [0.85, 0.10, 0.05],
                       burnUID: Int = 0, minAllowed: Int = 1, limit: Double = 1) -> WeightInputs {
        WeightInputs(split: split, burnUID: burnUID, rule: rule, shares: shares, kings: kings, generators: generators, neurons: neurons,
                     minAllowedWeights: minAllowed, maxWeightLimit: limit)
    }

    static func expectRaw(_ v: WeightVector, _ expected: [Double]) {
        #expect(v.raw.count == expected.count)
        for (a, b) in zip(v.raw, expected) { #expect(abs(a - b) < 1e-12, "raw \(v.raw) vs \(expected)") }
        #expect(abs(v.raw.reduce(0, +) - 1) < 1e-12)
    }

    @Test func missingKingsAndLanesGoToBurn() throws {
        // image: king hk1 .85, king-2 hk2 .10, no king-3 (.05 -> burn); video: no king (all .40 -> burn);
        // audio: hk3 .85 of .04, rest burn; generators .16 split .75/.25 by moving average.
        let v = try Weights.compute(Self.inputs(neurons: Self.neurons(6), kings: ["image": ["hk1", "hk2"], "audio": ["hk3"]],
                                                generators: ["hk4": 0.3, "hk5": 0.1]))
        Self.expectRaw(v, [0.426, 0.34, 0.04, 0.034, 0.12, 0.04])
        #expect(v.uids == [0, 1, 2, 3, 4, 5])
        #expect(v.weights == [65535, 52305, 6154, 5230, 18461, 6154])
        let burnNotes = v.allocations.filter { $0.uid == 0 }.compactMap(\.note)
        #expect(burnNotes.contains("no video king yet"))
        #expect(burnNotes.contains("no king 3 for image yet"))
    }

    @Test func tiesGetEqualWeights() throws {
        let split = WeightSplit(image: 0.5, video: 0, audio: 0, generators: 0.5, burn: 0)
        let v = try Weights.compute(Self.inputs(neurons: Self.neurons(4), kings: ["image": ["hk1"]], generators: ["hk2": 0.2, "hk3": 0.2],
                                                split: split, shares: [1.0]))
        Self.expectRaw(v, [0, 0.5, 0.25, 0.25])
        #expect(v.uids == [1, 2, 3])
        #expect(v.weights == [65535, 32768, 32768])  // 32767.5 rounds to even
    }

    @Test func zeroScoresGetNothingAndZerosAreDropped() throws {
        let v = try Weights.compute(Self.inputs(neurons: Self.neurons(5),
                                                kings: ["image": ["hk1", "hk2", "hk3"], "video": ["hk1", "hk2", "hk3"], "audio": ["hk2"]],
                                                generators: ["hk4": 0, "hk3": 0.5]))
        Self.expectRaw(v, [0.006, 0.68, 0.114, 0.2, 0])
        #expect(v.uids == [0, 1, 2, 3])  // uid 4 (moving average 0) is not emitted
        #expect(v.weights == [578, 65535, 10987, 19275])
    }

    @Test func oneMinerTakesEveryLaneItCanHold() throws {
        let v = try Weights.compute(Self.inputs(neurons: Self.neurons(2), kings: ["image": ["hk1"], "video": ["hk1"], "audio": ["hk1"]],
                                                generators: ["hk1": 1]))
        Self.expectRaw(v, [0.126, 0.874])
        #expect(v.uids == [0, 1])
        #expect(v.weights == [9448, 65535])
    }

    @Test func allZeroScoresGoToBurn() throws {
        let v = try Weights.compute(Self.inputs(neurons: Self.neurons(3), generators: ["hk1": 0, "hk2": 0]))
        Self.expectRaw(v, [1, 0, 0])
        #expect(v.uids == [0])
        #expect(v.weights == [65535])
        #expect(v.path == .normalized)
    }

    @Test func hotkeysMissingFromTheMetagraphGoToBurn() throws {
        let v = try Weights.compute(Self.inputs(neurons: Self.neurons(3), kings: ["image": ["gone", "hk1"], "video": ["hk2"]],
                                                generators: ["unregistered": 0.5, "hk2": 0.5]))
        Self.expectRaw(v, [0.54, 0.04, 0.42])
        #expect(v.weights == [65535, 4854, 50972])
        #expect(v.allocations.contains { $0.hotkey == "gone" && $0.uid == 0 && $0.note == "gone is not in the metagraph" })
        #expect(v.allocations.contains { $0.hotkey == "unregistered" && $0.uid == 0 })
    }

    @Test func burnUIDMissingFromTheMetagraphIsAnError() {
        #expect(throws: WeightError.burnUIDMissing(7, neurons: 3)) {
            try Weights.compute(Self.inputs(neurons: Self.neurons(3), burnUID: 7))
        }
        #expect(throws: WeightError.emptyMetagraph) { try Weights.compute(Self.inputs(neurons: [])) }
    }

    @Test func burnShareAndWinnerTakeAll() throws {
        let split = WeightSplit(image: 0.5, video: 0.2, audio: 0, generators: 0, burn: 0.3)
        let v = try Weights.compute(Self.inputs(neurons: Self.neurons(3), kings: ["image": ["hk2", "hk1"], "video": ["hk1"]],
                                                split: split, rule: .winnerTakeAll))
        Self.expectRaw(v, [0.3, 0.2, 0.5])
    }

    @Test func maxWeightLimitAndMinAllowedApply() throws {
        let base = Self.inputs(neurons: Self.neurons(6), kings: ["image": ["hk1", "hk2"], "audio": ["hk3"]], generators: ["hk4": 0.3, "hk5": 0.1],
                               limit: 0.3)
        let v = try Weights.compute(base)
        #expect(v.weights == [65535, 65535, 14937, 12696, 44810, 14937])
        var few = base
        few.minAllowedWeights = 8
        #expect(try Weights.compute(few).path == .uniform)
    }
}

@Suite struct KingOfTheHillTests {
    @Test func firstKingThenCrownedThenDefended() {
        var r = KingOfTheHill.advance(history: [], entrants: [Entrant(hotkey: "a", score: 0.6), Entrant(hotkey: "b", score: 0.5)],
                                      rule: .kingOfTheHill, depth: 3)
        #expect(r.history == ["a"] && r.event == .firstKing)
        r = KingOfTheHill.advance(history: r.history, entrants: [Entrant(hotkey: "a", score: 0.6), Entrant(hotkey: "b", score: 0.7)],
                                  rule: .kingOfTheHill, depth: 3)
        #expect(r.history == ["b", "a"] && r.event == .crowned)
        r = KingOfTheHill.advance(history: r.history, entrants: [Entrant(hotkey: "c", score: 0.71), Entrant(hotkey: "b", score: 0.7)],
                                  rule: .kingOfTheHill, depth: 3, margin: 0.05)
        #expect(r.history == ["b", "a"] && r.event == .defended)  // c did not beat b by the margin
        r = KingOfTheHill.advance(history: r.history, entrants: [Entrant(hotkey: "c", score: 0.9)], rule: .kingOfTheHill, depth: 3)
        #expect(r.history == ["c", "b", "a"] && r.event == .crowned)  // b did not enter
        r = KingOfTheHill.advance(history: r.history, entrants: [Entrant(hotkey: "d", score: 0.95)], rule: .kingOfTheHill, depth: 3)
        #expect(r.history == ["d", "c", "b"])  // depth 3: a drops off
        r = KingOfTheHill.advance(history: r.history, entrants: [Entrant(hotkey: "b", score: 0.99)], rule: .kingOfTheHill, depth: 3)
        #expect(r.history == ["b", "d", "c"])  // a former king returns to the front, listed once
    }

    @Test func tiesGoToTheIncumbentThenTheSmallestHotkey() {
        let tied = [Entrant(hotkey: "z", score: 0.5), Entrant(hotkey: "m", score: 0.5), Entrant(hotkey: "k", score: 0.5)]
        #expect(KingOfTheHill.winner(tied, incumbent: "z")?.hotkey == "z")
        #expect(KingOfTheHill.winner(tied, incumbent: nil)?.hotkey == "k")
        #expect(KingOfTheHill.winner(tied.reversed(), incumbent: "q")?.hotkey == "k")
        let r = KingOfTheHill.advance(history: ["z"], entrants: tied, rule: .kingOfTheHill, depth: 3)
        #expect(r.history == ["z"] && r.event == .defended)
    }

    @Test func zeroScoresNeverWin() {
        let r = KingOfTheHill.advance(history: ["a"], entrants: [Entrant(hotkey: "b", score: 0), Entrant(hotkey: "c", score: .nan)],
                                      rule: .kingOfTheHill, depth: 3)
        #expect(r.history == ["a"] && r.event == .noWinner && r.winner == nil)
    }

    @Test func winnerTakeAllFollowsEachRound() {
        var r = KingOfTheHill.advance(history: [], entrants: [Entrant(hotkey: "a", score: 0.6)], rule: .winnerTakeAll, depth: 1)
        #expect(r.history == ["a"])
        r = KingOfTheHill.advance(history: r.history, entrants: [Entrant(hotkey: "a", score: 0.6), Entrant(hotkey: "b", score: 0.61)],
                                  rule: .winnerTakeAll, depth: 1, margin: 0.5)
        #expect(r.history == ["b"] && r.event == .crowned)  // no margin and no incumbent advantage
    }

    @Test func allocationNamesMissingKings() {
        let a = KingOfTheHill.allocation(history: ["a"], shares: [0.85, 0.10, 0.05])
        #expect(a.map(\.hotkey) == ["a", nil, nil])
        #expect(a.map(\.share) == [0.85, 0.10, 0.05])
    }
}

@Suite struct GeneratorScoresTests {
    @Test func movingAverageWithAlphaHalf() {
        var s = GeneratorScores.step(state: [:], rewards: ["g1": 4, "g2": 2], seen: ["g1": 100, "g2": 100], alpha: 0.5, block: 100, livenessBlocks: 7200)
        #expect(s["g1"]?.ema == 2 && s["g2"]?.ema == 1)
        s = GeneratorScores.step(state: s, rewards: ["g1": 4], seen: ["g1": 200], alpha: 0.5, block: 200, livenessBlocks: 7200)
        #expect(s["g1"]?.ema == 3 && s["g2"]?.ema == 0.5)  // g2 had no reward: 0.5 * 0 + 0.5 * 1
        #expect(s["g2"]?.lastSeenBlock == 100)
    }

    @Test func unseenForTheLivenessWindowIsZeroed() {
        var s = GeneratorScores.step(state: [:], rewards: ["g1": 4, "g2": 2], seen: ["g1": 100, "g2": 100], alpha: 0.5, block: 100, livenessBlocks: 7200)
        s = GeneratorScores.step(state: s, rewards: ["g1": 4], seen: ["g1": 7400], alpha: 0.5, block: 7400, livenessBlocks: 7200)
        #expect(s["g2"]?.ema == 0)  // last seen at 100 < 7400 - 7200
        #expect(s["g1"]?.ema == 3)
    }

    @Test func noRewardsLeavesTheStateAlone() {
        let s0 = ["g1": GeneratorScoreState(ema: 1, lastSeenBlock: 5)]
        #expect(GeneratorScores.step(state: s0, rewards: [:], seen: [:], alpha: 0.5, block: 100_000, livenessBlocks: 10) == s0)
    }

    @Test func withoutAnyLivenessNothingIsZeroed() {
        let s = GeneratorScores.step(state: [:], rewards: ["g1": 2], seen: [:], alpha: 0.5, block: 100_000, livenessBlocks: 10)
        #expect(s["g1"]?.ema == 1)
    }
}
