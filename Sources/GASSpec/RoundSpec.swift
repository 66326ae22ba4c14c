import GASCore

/// A validated round spec (version 1): what to evaluate, on what, and how to score it.
/// Paths are as written; `SpecLoader` resolves them against the spec's folder.
public struct RoundSpec: Codable, Sendable, Hashable {
    public var version: Int
    public var round: RoundInfo
    public var catalogs: [String]
    public var sources: [SourceSpec]
    public var detectors: [DetectorSpec]
    public var scoring: ScoringRule
    public var outputs: OutputSpec
    /// Robustness augmentations (`augment:`); nil when the spec has none (left out of the manifest).
    public var augment: AugmentSpec? = nil
}

/// `augment: { robustness_share: 0.2 }`: that share of the round's readable images (chosen by each
/// sample's seed) also enter the round through gasbench's robustness suite (reference §5.3),
/// scored separately as the detector's robustness.
public struct AugmentSpec: Codable, Sendable, Hashable {
    public var robustnessShare: Double

    public init(robustnessShare: Double) {
        self.robustnessShare = robustnessShare
    }

    enum CodingKeys: String, CodingKey {
        case robustnessShare = "robustness_share"
    }
}

public struct RoundInfo: Codable, Sendable, Hashable {
    public var name: String
    public var seed: UInt64
    public var modalities: [Modality]
    public var benchmarkVersion: Int

    enum CodingKeys: String, CodingKey {
        case name, seed, modalities
        case benchmarkVersion = "benchmark_version"
    }
}

/// Where samples come from.
public enum SourceSpec: Codable, Sendable, Hashable {
    case real(RealSource)
    case synthetic(SyntheticSource)
    case generator(GeneratorSource)

    public var kind: SourceKind {
        switch self {
        case .real: .real
        case .synthetic: .synthetic
        case .generator: .generator
        }
    }
}

/// Catalog datasets, picked by name patterns (`*` and `?` globs).
public struct RealSource: Codable, Sendable, Hashable {
    public var datasets: [String]
    /// Total samples over all matched datasets, split evenly; nil = every file up to each dataset's cap.
    public var samples: Int?
    /// How `samples` is split over the datasets: nil = evenly; `.weighted` = gasbench's
    /// per-dataset caps (gasbench.md §1.7). Left out of the manifest when nil.
    public var sampling: RealSampling? = nil
}

/// Per-dataset budgets of a real source.
public enum RealSampling: String, Codable, Sendable, Hashable, CaseIterable {
    /// The total split evenly, remainder to the first names (the default, written as `even`).
    case even
    /// gasbench's `calculate_weighted_dataset_sampling`: every dataset gets the same cap
    /// min(2000, T / N); datasets whose name contains `gasstation` get 5× the regular share.
    case weighted
}

/// Media made locally by a builtin generator.
public struct SyntheticSource: Codable, Sendable, Hashable {
    public var generator: String
    public var samples: Int
    /// Share of the samples that are real images with a generated region pasted in (label 1).
    public var semisyntheticShare: Double
    public var width: Int
    public var height: Int
    /// procedural-speech: seconds per clip (default 2). Left out of the manifest when nil.
    public var duration: Double? = nil
    /// procedural-video: frames per clip (default 16, at 8 fps). Left out of the manifest when nil.
    public var frames: Int? = nil

    enum CodingKeys: String, CodingKey {
        case generator, samples, width, height, duration, frames
        case semisyntheticShare = "semisynthetic_share"
    }

    /// `procedural` (images), `procedural-speech` (speech-like WAV audio), `procedural-video`
    /// (Motion-JPEG AVI videos).
    public static let generators = ["procedural", "procedural-speech", "procedural-video"]

    /// The modality a generator produces.
    public static func modality(of generator: String) -> Modality {
        switch generator {
        case "procedural-speech": .audio
        case "procedural-video": .video
        default: .image
        }
    }

    public var modality: Modality { Self.modality(of: generator) }
}

/// Media from generator miners: challenged live over HTTP, or taken from media collected earlier.
public struct GeneratorSource: Codable, Sendable, Hashable {
    public enum Origin: String, Codable, Sendable, CaseIterable {
        /// Challenge the roster now; the collected snapshot becomes the samples.
        case live
        /// Use media accepted by earlier live collections (in the outputs folder's generator store).
        case store
    }
    public var from: Origin
    /// live: the roster file of generator endpoints (relative to the spec's folder).
    public var roster: String?
    /// live: the validator's key file (signs challenges, is the `signed_for` of deliveries).
    public var key: String?
    /// live: prompts per modality; every generator gets every prompt.
    public var prompts: Int
    /// live: prompt and tier seed (default: the round seed).
    public var seed: UInt64?
    /// live: seconds to wait for deliveries after the challenges are sent.
    public var deadlineSeconds: Double
    /// live: which modalities to challenge (default: the round's image/video modalities).
    public var modalities: [Modality]
    /// live: requested resolution tiers to draw from (default: all tiers with the GAS weights).
    public var tiers: [String]?
    public var webhook: WebhookSpec
    /// Delivery checks.
    public var verify: DeliveryChecks
    /// live: challenges in flight at once.
    public var concurrency: Int
    /// store: how far back to take media from, in seconds (default 7 days).
    public var windowSeconds: Double?
    /// store: at most this many media (chosen deterministically); nil = all in the window.
    public var samples: Int?

    enum CodingKeys: String, CodingKey {
        case from, roster, key, prompts, seed, modalities, tiers, webhook, verify, concurrency, samples
        case deadlineSeconds = "deadline_seconds", windowSeconds = "window_seconds"
    }
}

public struct WebhookSpec: Codable, Sendable, Hashable {
    public var host: String
    /// 0 = any free port.
    public var port: Int
    public var maxBodyBytes: Int
    enum CodingKeys: String, CodingKey {
        case host, port
        case maxBodyBytes = "max_body_bytes"
    }
    public init(host: String = "127.0.0.1", port: Int = 0, maxBodyBytes: Int = 64 << 20) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
    }
}

/// What a delivery must satisfy to be stored (gas-subnet.md §3.4, plus size limits of our own).
public struct DeliveryChecks: Codable, Sendable, Hashable {
    /// Shorter image side below this is rejected as undersized (ours; GAS has no minimum).
    public var minSide: Int
    public var maxImageBytes: Int
    public var maxVideoBytes: Int
    /// Hamming distance at or below which a delivery duplicates media stored for the same prompt (§3.4: 8).
    public var samePromptHamming: Int
    /// Hamming distance at or below which a delivery duplicates any stored media (§3.4: 4).
    public var globalHamming: Int
    /// Reject an image whose observed tier is below the requested one (GAS stores it and discounts the reward).
    public var requireTier: Bool

    enum CodingKeys: String, CodingKey {
        case minSide = "min_side", maxImageBytes = "max_image_bytes", maxVideoBytes = "max_video_bytes"
        case samePromptHamming = "same_prompt_hamming", globalHamming = "global_hamming", requireTier = "require_tier"
    }
    public init(minSide: Int = 256, maxImageBytes: Int = 32 << 20, maxVideoBytes: Int = 64 << 20,
                samePromptHamming: Int = 8, globalHamming: Int = 4, requireTier: Bool = false) {
        self.minSide = minSide
        self.maxImageBytes = maxImageBytes
        self.maxVideoBytes = maxVideoBytes
        self.samePromptHamming = samePromptHamming
        self.globalHamming = globalHamming
        self.requireTier = requireTier
    }
}

public enum DetectorAdapterKind: String, Codable, Sendable, CaseIterable {
    case builtin, process, predictions
    /// A GAS model package from the model registry (`gascli d push`), run by the package host.
    case package
}

/// A detector under test and how to reach it.
public struct DetectorSpec: Codable, Sendable, Hashable {
    public var name: String
    public var adapter: DetectorAdapterKind
    /// builtin: the model name (`image-baseline`) or a path to its safetensors file.
    public var model: String?
    /// process: argv, run with `workingDirectory` (default: the spec's folder) as current directory.
    public var command: [String]?
    public var workingDirectory: String?
    public var environment: [String: String]?
    /// predictions: a CSV or Parquet file of probabilities keyed by sample id.
    public var path: String?
    /// predictions: which detector's rows to take from a file that holds several (a predictions.parquet).
    public var detector: String?
    public var batchSize: Int
    public var timeoutSeconds: Double
    public var maxRestarts: Int
    /// package: the Python that runs the package host (default `python3`).
    public var python: String? = nil
    /// package: the model registry folder (default `GASCLI_REGISTRY`, else `registry` in the current directory).
    public var registry: String? = nil
    /// process, package: `limits.memory_mb`, the detector's address-space limit (RLIMIT_AS) in MiB;
    /// a detector that allocates past it fails its batch instead of exhausting the machine.
    public var memoryLimitMB: Int? = nil

    enum CodingKeys: String, CodingKey {
        case name, adapter, model, command, environment, path, detector, python, registry
        case memoryLimitMB = "memory_mb"
        case workingDirectory = "working_directory"
        case batchSize = "batch_size"
        case timeoutSeconds = "timeout_seconds"
        case maxRestarts = "max_restarts"
    }
}

public struct OutputSpec: Codable, Sendable, Hashable {
    /// Parent folder of run directories; relative to the current directory.
    public var directory: String
    /// `outputs.ledger`: a shared PostgreSQL ledger instead of each run directory's run.sqlite.
    /// Not encoded: where outcomes are stored is not part of what is evaluated, so it stays out
    /// of the manifest (and its hash) and out of the resolved spec.
    public var ledgerURL: LedgerURL? = nil

    public init(directory: String, ledgerURL: LedgerURL? = nil) {
        self.directory = directory
        self.ledgerURL = ledgerURL
    }

    enum CodingKeys: String, CodingKey {
        case directory
    }
}
