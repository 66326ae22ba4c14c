import GASCore

/// Everything the run report shows, gathered by the runner from a run directory. The renderer
/// (`RunReportPage`) is a pure function of this value: no I/O, no clock, the same HTML every time.
public struct RunReport: Sendable {
    public struct Run: Sendable {
        public var id: String
        public var round: String
        public var status: String
        public var manifestHash: String
        public var toolVersion: String
        public var specPath: String
        public var startedAt: String
        public var finishedAt: String?
        public var seed: UInt64
        /// The outputs folder holding the run, for the replay commands.
        public var outputs: String
        public init(id: String, round: String, status: String, manifestHash: String, toolVersion: String, specPath: String,
                    startedAt: String, finishedAt: String?, seed: UInt64, outputs: String) {
            self.id = id
            self.round = round
            self.status = status
            self.manifestHash = manifestHash
            self.toolVersion = toolVersion
            self.specPath = specPath
            self.startedAt = startedAt
            self.finishedAt = finishedAt
            self.seed = seed
            self.outputs = outputs
        }
    }

    /// One way a detector failed, and how often.
    public struct FailureReason: Sendable, Equatable {
        public var status: String
        public var reason: String
        public var count: Int
        public init(status: String, reason: String, count: Int) {
            self.status = status
            self.reason = reason
            self.count = count
        }
    }

    public struct Detector: Sendable {
        public var name: String
        public var adapter: String
        public var artifactSHA256: String?
        /// The stored scores (the same numbers as results.json).
        public var score: DetectorScore
        /// ROC curve and reliability bins over the overall slice's predictions.
        public var roc: [ROCPoint]
        public var calibration: [CalibrationBin]
        public var failures: [FailureReason]
        /// Mean and 95th percentile of per-sample latency over ok outcomes, in milliseconds.
        public var meanLatencyMs: Double?
        public var p95LatencyMs: Double?
        public init(name: String, adapter: String, artifactSHA256: String?, score: DetectorScore, roc: [ROCPoint],
                    calibration: [CalibrationBin], failures: [FailureReason], meanLatencyMs: Double?, p95LatencyMs: Double?) {
            self.name = name
            self.adapter = adapter
            self.artifactSHA256 = artifactSHA256
            self.score = score
            self.roc = roc
            self.calibration = calibration
            self.failures = failures
            self.meanLatencyMs = meanLatencyMs
            self.p95LatencyMs = p95LatencyMs
        }
    }

    /// One generator miner's row of `generator_scores`.
    public struct Generator: Sendable, Equatable {
        public var generator: String
        public var hotkey: String?
        public var uid: Int?
        public var modality: String?
        public var challenges: Int?
        public var accepted: Int?
        public var passRate: Double?
        public var foolRate: Double?
        public var samples: Int?
        public var volumeFactor: Double?
        public var resolutionFactor: Double?
        public var foolBonus: Double?
        public var reward: Double?
        public init(generator: String, hotkey: String? = nil, uid: Int? = nil, modality: String? = nil, challenges: Int? = nil,
                    accepted: Int? = nil, passRate: Double? = nil, foolRate: Double? = nil, samples: Int? = nil,
                    volumeFactor: Double? = nil, resolutionFactor: Double? = nil, foolBonus: Double? = nil, reward: Double? = nil) {
            self.generator = generator
            self.hotkey = hotkey
            self.uid = uid
            self.modality = modality
            self.challenges = challenges
            self.accepted = accepted
            self.passRate = passRate
            self.foolRate = foolRate
            self.samples = samples
            self.volumeFactor = volumeFactor
            self.resolutionFactor = resolutionFactor
            self.foolBonus = foolBonus
            self.reward = reward
        }
    }

    public var run: Run
    public var scoring: ScoringRule
    public var bootstrap: BootstrapSettings
    public var sampleCount: Int
    public var skippedInputs: Int
    public var samplesByLabel: [String: Int]
    public var samplesByDataset: [String: Int]
    /// Detectors in spec order.
    public var detectors: [Detector]
    /// nil when the run has no generator table (no generator media in the round).
    public var generators: [Generator]?

    public init(run: Run, scoring: ScoringRule, bootstrap: BootstrapSettings, sampleCount: Int, skippedInputs: Int,
                samplesByLabel: [String: Int], samplesByDataset: [String: Int], detectors: [Detector], generators: [Generator]?) {
        self.run = run
        self.scoring = scoring
        self.bootstrap = bootstrap
        self.sampleCount = sampleCount
        self.skippedInputs = skippedInputs
        self.samplesByLabel = samplesByLabel
        self.samplesByDataset = samplesByDataset
        self.detectors = detectors
        self.generators = generators
    }
}

/// Scores and weights across rounds, for validators (`gascli report --history`).
public struct HistoryReport: Sendable {
    /// One detector's score in one run.
    public struct Point: Sendable, Equatable {
        public var runID: String
        public var round: String
        public var startedAt: String
        public var detector: String
        public var sn34: Double
        public var invalidated: Bool
        public init(runID: String, round: String, startedAt: String, detector: String, sn34: Double, invalidated: Bool) {
            self.runID = runID
            self.round = round
            self.startedAt = startedAt
            self.detector = detector
            self.sn34 = sn34
            self.invalidated = invalidated
        }
    }

    /// The weights set after one round (from the validator's state; keys are uids, hotkeys or names).
    public struct WeightVector: Sendable, Equatable {
        public var label: String
        public var at: String
        public var weights: [(target: String, weight: Double)]
        public init(label: String, at: String, weights: [(target: String, weight: Double)]) {
            self.label = label
            self.at = at
            self.weights = weights
        }
        public static func == (a: WeightVector, b: WeightVector) -> Bool {
            a.label == b.label && a.at == b.at && a.weights.map(\.target) == b.weights.map(\.target)
                && a.weights.map(\.weight) == b.weights.map(\.weight)
        }
    }

    public var outputs: String
    public var toolVersion: String
    /// Completed runs only, oldest first.
    public var points: [Point]
    /// Empty when no weight history is available.
    public var weights: [WeightVector]

    public init(outputs: String, toolVersion: String, points: [Point], weights: [WeightVector] = []) {
        self.outputs = outputs
        self.toolVersion = toolVersion
        self.points = points
        self.weights = weights
    }
}
