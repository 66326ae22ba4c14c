import Testing
@testable import GASCore

/// Golden vectors from the bittensor SDK 10.4.0 (`process_weights` then
/// `convert_weights_and_uids_for_emit`, numpy 2.4), computed once in a separate venv and pasted
/// here as literals so this suite needs no Python. During development the port also matched the
/// SDK bit for bit on 3,800 random vectors (1-300 uids, limits 0.03-1, min_allowed 0-64).
@Suite struct WeightsBittensorTests {
    struct SDKCase {
        var raw: [Double]
        var minAllowed: Int
        var limit: Double
        var uids: [Int]
        var weights: [Int]
    }

    static func emit(_ raw: [Double], minAllowed: Int = 1, limit: Double = 1) throws -> (uids: [Int], weights: [Int]) {
        let p = BittensorWeights.process(uids: Array(raw.indices), weights: raw, numNeurons: raw.count,
                                         minAllowedWeights: minAllowed, maxWeightLimit: limit)
        let e = try BittensorWeights.convertForEmit(uids: p.uids, weights: p.weights)
        return (e.uids, e.weights.map(Int.init))
    }

    static let sdkCases: [SDKCase] = [
        // Scenario vectors of WeightsLanesTests (lanes already applied).
        SDKCase(raw: [0.426, 0.34, 0.04, 0.034, 0.12, 0.04], minAllowed: 1, limit: 1, uids: [0, 1, 2, 3, 4, 5],
                weights: [65535, 52305, 6154, 5230, 18461, 6154]),
        SDKCase(raw: [0.0, 0.5, 0.25, 0.25], minAllowed: 1, limit: 1, uids: [1, 2, 3], weights: [65535, 32768, 32768]),
        SDKCase(raw: [0.006, 0.68, 0.114, 0.2, 0.0], minAllowed: 1, limit: 1, uids: [0, 1, 2, 3], weights: [578, 65535, 10987, 19275]),
        SDKCase(raw: [0.126, 0.874], minAllowed: 1, limit: 1, uids: [0, 1], weights: [9448, 65535]),
        SDKCase(raw: [1.0, 0.0, 0.0], minAllowed: 1, limit: 1, uids: [0], weights: [65535]),
        SDKCase(raw: [0.54, 0.04, 0.42], minAllowed: 1, limit: 1, uids: [0, 1, 2], weights: [65535, 4854, 50972]),
        // Max-weight limit binding (float32 cutoff path).
        SDKCase(raw: [0.426, 0.34, 0.04, 0.034, 0.12, 0.04], minAllowed: 1, limit: 0.3, uids: [0, 1, 2, 3, 4, 5],
                weights: [65535, 65535, 14937, 12696, 44810, 14937]),
        // Fewer neurons than min_allowed_weights: uniform over every uid.
        SDKCase(raw: [0.426, 0.34, 0.04, 0.034, 0.12, 0.04], minAllowed: 8, limit: 0.3, uids: [0, 1, 2, 3, 4, 5],
                weights: [65535, 65535, 65535, 65535, 65535, 65535]),
        // All zero: uniform over every uid.
        SDKCase(raw: [0.0, 0.0, 0.0], minAllowed: 1, limit: 1, uids: [0, 1, 2], weights: [65535, 65535, 65535]),
        SDKCase(raw: [0.5, 0.5], minAllowed: 4, limit: 1, uids: [0, 1], weights: [65535, 65535]),
        // Fewer non-zero weights than min_allowed_weights: 1e-5 for everyone (float64 path).
        SDKCase(raw: [0.5, 0, 0.3, 0, 0, 0.2, 0, 0, 0, 0], minAllowed: 4, limit: 1, uids: Array(0..<10),
                weights: [65535, 1, 39322, 1, 1, 26215, 1, 1, 1, 1]),
        SDKCase(raw: [0.5, 0, 0.3, 0, 0, 0.2, 0, 0, 0, 0], minAllowed: 4, limit: 0.3, uids: Array(0..<10),
                weights: [65535, 3136, 65535, 3136, 3136, 65535, 3136, 3136, 3136, 3136]),
        // Random vectors (numpy seed 34).
        SDKCase(raw: [0.0, 0.0, 0.014303, 0.275972, 0.113445, 0.0, 0.683152, 0.728325, 0.0, 0.896303, 0.756933, 0.311343],
                minAllowed: 1, limit: 0.1, uids: [2, 3, 4, 6, 7, 9, 10, 11], weights: [65535, 65535, 65535, 65535, 65535, 65535, 65535, 65535]),
        SDKCase(raw: [0.023531, 0.374713, 0.0, 0.0, 0.198028, 6e-06, 0.280917, 0.062699, 0.213391, 0.0, 0.024492, 0.0, 0.155051, 0.004308,
                      0.118102, 0.83828, 5e-06, 0.0, 0.841011, 0.0619],
                minAllowed: 1, limit: 0.1, uids: [0, 1, 4, 5, 6, 7, 8, 10, 12, 13, 14, 15, 16, 18, 19],
                weights: [17431, 65535, 65535, 4, 65535, 46445, 65535, 18143, 65535, 3191, 65535, 65535, 4, 65535, 45854]),
        SDKCase(raw: [0.180494, 0.018518, 0.001539, 0.0, 0.143858, 0.834564, 0.811781, 0.0, 0.013967], minAllowed: 3, limit: 0.2,
                uids: [0, 1, 2, 4, 5, 6, 8], weights: [65535, 35669, 2964, 65535, 65535, 65535, 26903]),
        SDKCase(raw: [0.128697, 0.009229, 0.063741, 0.11926, 0.25867, 0.19515, 0.061211, 0.377526, 0.0, 0.635364, 0.282843, 0.197638,
                      0.375949, 0.0, 0.014728, 0.667689],
                minAllowed: 1, limit: 0.5, uids: [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15],
                weights: [12632, 906, 6256, 11706, 25389, 19154, 6008, 37055, 62362, 27762, 19399, 36900, 1446, 65535]),
    ]

    @Test(arguments: sdkCases.indices)
    func matchesTheSDK(_ index: Int) throws {
        let c = Self.sdkCases[index]
        let got = try Self.emit(c.raw, minAllowed: c.minAllowed, limit: c.limit)
        #expect(got.uids == c.uids, "case \(index)")
        #expect(got.weights == c.weights, "case \(index)")
    }

    @Test func processedFloatsAreTheSDKsFloat32Values() {
        // SDK process_weights output for [0.426, 0.34, 0.04, 0.034, 0.12, 0.04] (float32 widened by tolist()).
        let p = BittensorWeights.process(uids: Array(0..<6), weights: [0.426, 0.34, 0.04, 0.034, 0.12, 0.04], numNeurons: 6,
                                         minAllowedWeights: 1, maxWeightLimit: 1)
        #expect(p.path == .normalized)
        #expect(p.weights == [0.4259999990463257, 0.3400000035762787, 0.03999999910593033, 0.03400000184774399, 0.11999999731779099, 0.03999999910593033])
        let capped = BittensorWeights.process(uids: Array(0..<6), weights: [0.426, 0.34, 0.04, 0.034, 0.12, 0.04], numNeurons: 6,
                                              minAllowedWeights: 1, maxWeightLimit: 0.3)
        #expect(capped.weights == [0.29999983310699463, 0.29999983310699463, 0.06837611645460129, 0.05811970308423042, 0.20512835681438446, 0.06837611645460129])
        let below = BittensorWeights.process(uids: Array(0..<10), weights: [0.5, 0, 0.3, 0, 0, 0.2, 0, 0, 0, 0], numNeurons: 10,
                                             minAllowedWeights: 4, maxWeightLimit: 1)
        #expect(below.path == .belowMinAllowed)
        #expect(below.weights[0] == 0.49995999655036044)
        #expect(below.weights[1] == 9.99899995100819e-06)
    }

    @Test func roundsHalfToEvenAndDropsZeros() throws {
        // w / max * 65535 lands on exactly .5: Python's round() goes to the even neighbour.
        #expect(try BittensorWeights.convertForEmit(uids: [0, 1, 2], weights: [2, 1, 1]) == ([0, 1, 2], [65535, 32768, 32768]))
        #expect(try BittensorWeights.convertForEmit(uids: [0, 1], weights: [1, 0.5 / 65535]) == ([0], [65535]))      // 0.5 -> 0, dropped
        #expect(try BittensorWeights.convertForEmit(uids: [0, 1], weights: [1, 1.5 / 65535]) == ([0, 1], [65535, 2]))  // 1.5 -> 2
        #expect(try BittensorWeights.convertForEmit(uids: [0, 1], weights: [1, 2.5 / 65535]) == ([0, 1], [65535, 2]))  // 2.5 -> 2
        #expect(try BittensorWeights.convertForEmit(uids: [4, 7], weights: [3, 1]) == ([4, 7], [65535, 21845]))
    }

    @Test func emptyAndInvalidInputs() throws {
        #expect(try BittensorWeights.convertForEmit(uids: [0, 1], weights: [0, 0]) == ([], []))
        #expect(throws: BittensorWeights.EmitError.negativeWeight(-1)) { try BittensorWeights.convertForEmit(uids: [0, 1], weights: [1, -1]) }
        #expect(throws: BittensorWeights.EmitError.negativeUID(-2)) { try BittensorWeights.convertForEmit(uids: [-2], weights: [1]) }
        #expect(throws: BittensorWeights.EmitError.lengthMismatch(uids: 1, weights: 2)) { try BittensorWeights.convertForEmit(uids: [0], weights: [1, 1]) }
    }

    @Test func oneMinerGetsEverything() throws {
        #expect(try Self.emit([1.0]) == ([0], [65535]))
        #expect(try Self.emit([0, 0, 0.25]) == ([2], [65535]))
    }

    @Test func pairwiseSumFollowsNumpy() {
        // float32 sums of 1..n/7 for n across the three regimes (<8, <=128, split); values from numpy.
        let small: [Float] = (1...7).map { Float($0) / 7 }
        #expect(BittensorWeights.pairwiseSum(small) == small.reduce(0, +))
        let big: [Float] = (0..<300).map { Float($0 % 17) * 0.1 }
        let naive = big.reduce(0, +)
        let pairwise = BittensorWeights.pairwiseSum(big)
        #expect(abs(pairwise - naive) < 1e-2)
    }
}
