/// From carried scores to one float weight per uid: the split across lanes, the kings' shares,
/// the generators' share proportional to their moving averages, and the burn uid for whatever
/// cannot be given to a registered miner. Then bittensor's processing and u16 conversion.

/// The shares of the lanes (GAS 4.8.11+, `validator.py:set_weights`: burn 0, image .40, video .40,
/// audio .04, generators .16). They must sum to 1.
public struct WeightSplit: Codable, Sendable, Hashable {
    public var image: Double
    public var video: Double
    public var audio: Double
    public var generators: Double
    public var burn: Double

    public init(image: Double = 0.40, video: Double = 0.40, audio: Double = 0.04, generators: Double = 0.16, burn: Double = 0) {
        self.image = image
        self.video = video
        self.audio = audio
        self.generators = generators
        self.burn = burn
    }

    public func share(_ modality: Modality) -> Double {
        switch modality {
        case .image: image
        case .video: video
        case .audio: audio
        }
    }

    public var total: Double { image + video + audio + generators + burn }
}

/// A registered neuron as the weights need it.
public struct Neuron: Codable, Sendable, Hashable {
    public var uid: Int
    public var hotkey: String
    public var validator: Bool
    public init(uid: Int, hotkey: String, validator: Bool = false) {
        self.uid = uid
        self.hotkey = hotkey
        self.validator = validator
    }
}

/// Everything a weight vector is computed from (stored beside the vector).
public struct WeightInputs: Codable, Sendable, Equatable {
    public var split: WeightSplit
    public var burnUID: Int
    public var rule: DiscriminatorRule
    public var shares: [Double]
    /// Kings per modality, most recent first.
    public var kings: [String: [String]]
    /// Moving averages of the generators that had rewards in the window (the "active" ones).
    public var generators: [String: Double]
    public var neurons: [Neuron]
    public var minAllowedWeights: Int
    public var maxWeightLimit: Double

    public init(split: WeightSplit, burnUID: Int, rule: DiscriminatorRule, shares: [Double], kings: [String: [String]],
                generators: [String: Double], neurons: [Neuron], minAllowedWeights: Int, maxWeightLimit: Double) {
        self.split = split
        self.burnUID = burnUID
        self.rule = rule
        self.shares = shares
        self.kings = kings
        self.generators = generators
        self.neurons = neurons
        self.minAllowedWeights = minAllowedWeights
        self.maxWeightLimit = maxWeightLimit
    }
}

/// One line of the explanation of a weight vector: who got what and why.
public struct WeightAllocation: Codable, Sendable, Equatable {
    /// `image:king`, `image:king-2`, `generators`, `burn`, …
    public var role: String
    public var hotkey: String?
    public var uid: Int
    public var amount: Double
    /// Why this went to the burn uid, when it did.
    public var note: String?
}

public struct WeightVector: Codable, Sendable, Equatable {
    /// Float weight per uid 0..<n before processing (sums to 1).
    public var raw: [Double]
    public var allocations: [WeightAllocation]
    public var processedUIDs: [Int]
    public var processed: [Double]
    public var path: BittensorWeights.Path
    /// What is set on chain: uids and u16 weights, zeros dropped.
    public var uids: [Int]
    public var weights: [UInt16]
}

public enum WeightError: Error, Equatable, CustomStringConvertible {
    case burnUIDMissing(Int, neurons: Int)
    case emptyMetagraph
    case emit(String)

    public var description: String {
        switch self {
        case let .burnUIDMissing(uid, n):
            "the burn uid \(uid) is not in the metagraph (\(n) neurons, uids 0..\(max(n - 1, 0))); set weights.burn_uid to a registered uid"
        case .emptyMetagraph: "the metagraph has no neurons"
        case let .emit(m): "weights cannot be converted for the chain: \(m)"
        }
    }
}

public enum Weights {
    /// The whole computation: lanes -> raw float per uid -> `process_weights` -> u16.
    public static func compute(_ input: WeightInputs) throws -> WeightVector {
        let n = input.neurons.count
        guard n > 0 else { throw WeightError.emptyMetagraph }
        let byHotkey = Dictionary(input.neurons.map { ($0.hotkey, $0.uid) }, uniquingKeysWith: { a, _ in a })
        guard input.neurons.contains(where: { $0.uid == input.burnUID }) else {
            throw WeightError.burnUIDMissing(input.burnUID, neurons: n)
        }
        let size = (input.neurons.map(\.uid).max() ?? 0) + 1
        var raw = Array(repeating: 0.0, count: size)
        var allocations: [WeightAllocation] = []

        func give(_ role: String, hotkey: String?, amount: Double, burnNote: String) {
            guard amount > 0 else { return }
            if let hotkey, let uid = byHotkey[hotkey] {
                raw[uid] += amount
                allocations.append(WeightAllocation(role: role, hotkey: hotkey, uid: uid, amount: amount, note: nil))
            } else {
                raw[input.burnUID] += amount
                let note = hotkey.map { "\($0) is not in the metagraph" } ?? burnNote
                allocations.append(WeightAllocation(role: role, hotkey: hotkey, uid: input.burnUID, amount: amount, note: note))
            }
        }

        if input.split.burn > 0 {
            raw[input.burnUID] += input.split.burn
            allocations.append(WeightAllocation(role: "burn", hotkey: nil, uid: input.burnUID, amount: input.split.burn, note: "burn share"))
        }
        let shares = input.rule == .winnerTakeAll ? [1.0] : input.shares
        for modality in Modality.allCases {
            let lane = input.split.share(modality)
            guard lane > 0 else { continue }
            let history = input.kings[modality.rawValue] ?? []
            var given = 0.0
            for (i, part) in KingOfTheHill.allocation(history: history, shares: shares).enumerated() {
                let role = i == 0 ? "\(modality.rawValue):king" : "\(modality.rawValue):king-\(i + 1)"
                give(role, hotkey: part.hotkey, amount: lane * part.share,
                     burnNote: i == 0 ? "no \(modality.rawValue) king yet" : "no king \(i + 1) for \(modality.rawValue) yet")
                given += part.share
            }
            if given < 1 - 1e-12 {
                give("\(modality.rawValue):unassigned", hotkey: nil, amount: lane * (1 - given), burnNote: "shares sum to less than 1")
            }
        }

        if input.split.generators > 0 {
            let positive = input.generators.filter { $0.value > 0 && $0.value.isFinite }
            let total = positive.values.sorted().reduce(0, +)
            if total > 0 {
                for hotkey in positive.keys.sorted() {
                    give("generators", hotkey: hotkey, amount: input.split.generators * positive[hotkey]! / total,
                         burnNote: "")
                }
            } else {
                give("generators", hotkey: nil, amount: input.split.generators, burnNote: "no generator has a score above 0")
            }
        }

        // Registered uids only: the SDK sets weights over uids 0..<n.
        let uids = Array(0..<size)
        let processed = BittensorWeights.process(uids: uids, weights: raw, numNeurons: size,
                                                 minAllowedWeights: input.minAllowedWeights, maxWeightLimit: input.maxWeightLimit)
        let emitted: (uids: [Int], weights: [UInt16])
        do {
            emitted = try BittensorWeights.convertForEmit(uids: processed.uids, weights: processed.weights)
        } catch {
            throw WeightError.emit("\(error)")
        }
        return WeightVector(raw: raw, allocations: allocations, processedUIDs: processed.uids, processed: processed.weights,
                            path: processed.path, uids: emitted.uids, weights: emitted.weights)
    }
}
