import GASCore

/// A validated validator service config (`gascli validator start --config FILE`).
/// Paths are absolute: specs and the metagraph file are resolved against the config's folder,
/// the state directory against the current directory.
public struct ValidatorConfig: Sendable {
    public var path: String
    public var directory: String
    public var text: String
    public var netuid: Int
    /// `__spec_version__` of GAS 4.9.9, passed to sinks as the chain's version_key.
    public var versionKey: Int
    public var stateDirectory: String
    /// Occurrences before this block are never run (default: the block of the first start).
    public var startBlock: Int64?
    public var clock: ClockConfig
    public var metagraph: MetagraphSource
    public var schedules: [ScheduleConfig]
    public var weights: WeightsConfig
    public var warnings: [SpecDiagnostic]

    public init(path: String, directory: String, text: String, netuid: Int, versionKey: Int, stateDirectory: String,
                startBlock: Int64?, clock: ClockConfig, metagraph: MetagraphSource, schedules: [ScheduleConfig],
                weights: WeightsConfig, warnings: [SpecDiagnostic] = []) {
        self.path = path
        self.directory = directory
        self.text = text
        self.netuid = netuid
        self.versionKey = versionKey
        self.stateDirectory = stateDirectory
        self.startBlock = startBlock
        self.clock = clock
        self.metagraph = metagraph
        self.schedules = schedules
        self.weights = weights
        self.warnings = warnings
    }
}

public enum ClockConfig: Sendable, Equatable {
    /// Blocks from wall time: block = floor((now - genesis) * speedup / block_seconds).
    case simulated(SimulatedClockConfig)
    /// Blocks from a Substrate node's `chain_getHeader` over JSON-RPC (HTTP POST).
    case substrate(SubstrateClockConfig)
}

public struct SimulatedClockConfig: Sendable, Equatable {
    /// Unix seconds of block 0.
    public var genesis: Double
    /// Nominal chain seconds per block (12 on Bittensor).
    public var blockSeconds: Double
    /// How many times faster than real time the clock runs (tests use hundreds).
    public var speedup: Double
    public init(genesis: Double, blockSeconds: Double = 12, speedup: Double = 1) {
        self.genesis = genesis
        self.blockSeconds = blockSeconds
        self.speedup = speedup
    }
}

public struct SubstrateClockConfig: Sendable, Equatable {
    public var url: String
    /// Seconds between head reads.
    public var poll: Double
    /// Seconds one request may take.
    public var timeout: Double
    /// A head that has not advanced for this long is stale (GAS `BLOCK_STALENESS_TIMEOUT` = 120 s).
    public var staleAfter: Double
    public init(url: String, poll: Double = 6, timeout: Double = 10, staleAfter: Double = 120) {
        self.url = url
        self.poll = poll
        self.timeout = timeout
        self.staleAfter = staleAfter
    }
}

public enum MetagraphSource: Sendable, Equatable {
    /// A YAML or JSON file, re-read at every weight set.
    case file(String)
    /// A program that prints the metagraph (YAML or JSON) on stdout, run at every weight set.
    case command([String], timeout: Double)
}

public enum CatchUpPolicy: String, Sendable, CaseIterable, Codable {
    /// Run only the newest missed occurrence; older missed ones are recorded as skipped.
    case latest
    /// Run every missed occurrence, oldest first.
    case all
    /// Run nothing that came due before this start; wait for the next occurrence.
    case skip
}

public enum SeedPolicy: String, Sendable, CaseIterable, Codable {
    /// Each round's seed is derived from the spec's seed and the occurrence, so rounds sample anew.
    case perOccurrence = "per_occurrence"
    /// Every round uses the spec's seed.
    case fixed
}

public struct ScheduleConfig: Sendable, Equatable {
    public var name: String
    /// Absolute path of the round spec.
    public var spec: String
    public var cadence: Cadence
    public var catchUp: CatchUpPolicy
    public var seed: SeedPolicy
    public init(name: String, spec: String, cadence: Cadence, catchUp: CatchUpPolicy = .latest, seed: SeedPolicy = .perOccurrence) {
        self.name = name
        self.spec = spec
        self.cadence = cadence
        self.catchUp = catchUp
        self.seed = seed
    }
}

/// Which miner a detector in the round specs belongs to.
public struct DetectorRosterEntry: Sendable, Equatable, Codable {
    public var detector: String
    public var hotkey: String?
    public var uid: Int?
    public init(detector: String, hotkey: String? = nil, uid: Int? = nil) {
        self.detector = detector
        self.hotkey = hotkey
        self.uid = uid
    }
}

public struct GeneratorWeightsConfig: Sendable, Equatable {
    /// EMA factor (GAS `update_scores`: 0.5 since 4.4.0).
    public var alpha: Double
    /// Rounds finished within this many blocks before a weight set feed its EMA step (24 h = 7200 blocks).
    public var windowBlocks: Int64
    /// Generators with no accepted media for this many blocks are zeroed (24 h = 7200 blocks).
    public var livenessBlocks: Int64
    /// How a generator's per-modality rewards combine (GAS `--scoring.image-weight` .30, `--scoring.video-weight` .70).
    public var modalityWeights: [String: Double]
    public init(alpha: Double = 0.5, windowBlocks: Int64 = 7200, livenessBlocks: Int64 = 7200,
                modalityWeights: [String: Double] = ["image": 0.30, "video": 0.70]) {
        self.alpha = alpha
        self.windowBlocks = windowBlocks
        self.livenessBlocks = livenessBlocks
        self.modalityWeights = modalityWeights
    }
}

public enum SinkConfig: Sendable, Equatable {
    /// Writes the weight vector as JSON (atomically) to a path relative to the state directory.
    case file(path: String)
    /// Runs a program with the weights as JSON on stdin (and GAS_UIDS / GAS_WEIGHTS in its environment).
    case command(argv: [String], timeout: Double)
    /// POSTs the JSON to a URL; any 2xx answer is success.
    case http(url: String, timeout: Double)

    public var kind: String {
        switch self {
        case .file: "file"
        case .command: "command"
        case .http: "http"
        }
    }

    public var target: String {
        switch self {
        case let .file(path): path
        case let .command(argv, _): argv.joined(separator: " ")
        case let .http(url, _): url
        }
    }
}

public struct WeightsConfig: Sendable, Equatable {
    /// Weight sets fire when `block % every_blocks == 0` (GAS `--epoch-length` 360).
    public var everyBlocks: Int64
    /// At least this many blocks between two sets (the chain's weights_rate_limit, 100 on SN34).
    public var rateLimitBlocks: Int64
    public var split: WeightSplit
    public var burnUID: Int
    public var rule: DiscriminatorRule
    public var shares: [Double]
    /// A challenger must beat the king's score in the same round by more than this.
    public var margin: Double
    public var roster: [DetectorRosterEntry]
    public var generators: GeneratorWeightsConfig
    /// The subnet's `min_allowed_weights` and `max_weight_limit` hyperparameters.
    public var minAllowedWeights: Int
    public var maxWeightLimit: Double
    public var sinks: [SinkConfig]
    /// Attempts per sink (first try included) and the first backoff, doubled after each failure.
    public var sinkAttempts: Int
    public var sinkBackoff: Double

    public init(everyBlocks: Int64 = 360, rateLimitBlocks: Int64 = 100, split: WeightSplit = WeightSplit(), burnUID: Int = 0,
                rule: DiscriminatorRule = .kingOfTheHill, shares: [Double] = [0.85, 0.10, 0.05], margin: Double = 0,
                roster: [DetectorRosterEntry] = [], generators: GeneratorWeightsConfig = GeneratorWeightsConfig(),
                minAllowedWeights: Int = 1, maxWeightLimit: Double = 1, sinks: [SinkConfig] = [],
                sinkAttempts: Int = 3, sinkBackoff: Double = 1) {
        self.everyBlocks = everyBlocks
        self.rateLimitBlocks = rateLimitBlocks
        self.split = split
        self.burnUID = burnUID
        self.rule = rule
        self.shares = shares
        self.margin = margin
        self.roster = roster
        self.generators = generators
        self.minAllowedWeights = minAllowedWeights
        self.maxWeightLimit = maxWeightLimit
        self.sinks = sinks
        self.sinkAttempts = sinkAttempts
        self.sinkBackoff = sinkBackoff
    }
}
