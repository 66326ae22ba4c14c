import Foundation

/// One of N parts of a round: `--shard I/N`, I from 0 (as Slurm array task ids and Kubernetes
/// completion indexes count). A shard owns a contiguous range of the plan's samples in
/// `ExecutionOrder` (by sample id), and every detector evaluates that same range, so the parts
/// together hold each (sample, detector) once.
public struct Shard: Sendable, Hashable, Codable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw ShardError.invalidShard(text: "\(index)/\(count)", reason: "N must be at least 1") }
        guard index >= 0, index < count else {
            throw ShardError.invalidShard(text: "\(index)/\(count)", reason: "I must be between 0 and \(count - 1) for N = \(count)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `I/N`.
    public static func parse(_ text: String) throws -> Shard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let n = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw ShardError.invalidShard(text: text, reason: "expected I/N with whole numbers, e.g. 0/4 for the first of four shards")
        }
        return try Shard(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// The part directory's name under `<run dir>/shards/`.
    public var directoryName: String { "\(index)-of-\(count)" }

    /// Positions [lower, upper) in execution order of this shard's samples: N nearly equal contiguous ranges.
    public func sampleRange(of sampleCount: Int) -> Range<Int> {
        (sampleCount * index / count)..<(sampleCount * (index + 1) / count)
    }
}

/// What `shard.json` in a part directory records: which part of which plan it holds. Written
/// when the part starts, so a merge can name a part that never finished.
public struct ShardPartInfo: Codable, Sendable, Equatable {
    public var runID: String
    public var manifestHash: String
    public var index: Int
    public var count: Int
    public var firstSample: Int
    public var endSample: Int
    public var spec: String
    /// The shared PostgreSQL ledger (URL without password) the shard commits into; nil: the
    /// part's own run.sqlite.
    public var ledger: String? = nil

    enum CodingKeys: String, CodingKey {
        case index, count, spec, ledger
        case runID = "run_id", manifestHash = "manifest_hash", firstSample = "first_sample", endSample = "end_sample"
    }

    public static let fileName = "shard.json"
}

/// `status.json` of a shard part whose outcomes are in a shared PostgreSQL ledger: how the
/// shard's last run ended (running, completed, failed, interrupted), which the shared run's own
/// status cannot say for one shard.
public struct ShardPartStatus: Codable, Sendable, Equatable {
    public var status: String
    public var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case status
        case updatedAt = "updated_at"
    }

    public static let fileName = "status.json"
}

public enum ShardError: Error, CustomStringConvertible, Equatable {
    case invalidShard(text: String, reason: String)
    case generatorSources(spec: String)
    case notARun(directory: String, reason: String)
    case noParts(directory: String)
    case unreadablePart(path: String, reason: String)
    /// Parts whose manifest hash is not the run's: (hash, part paths) per foreign manifest.
    case differentManifests(runDirectory: String, expected: String, foreign: [String: [String]])
    case differentCounts(parts: [String: [String]])
    case duplicateShards(shard: String, parts: [String])
    case missingShards(shards: [String], count: Int, resume: [String])
    case incompleteShards(problems: [String])

    public var description: String {
        switch self {
        case let .invalidShard(text, reason):
            "--shard \(text) is out of range or malformed: \(reason); valid values are I/N with N >= 1 and 0 <= I <= N-1"
        case let .generatorSources(spec):
            "\(spec): rounds with generator sources cannot be sharded (every shard would collect its own challenges); run this spec without --shard"
        case let .notARun(directory, reason): "\(directory) is not a sharded run directory: \(reason)"
        case let .noParts(directory):
            "no shard parts under \(directory)/shards: run the shards first (gascli run SPEC --shard I/N --run-id ID) or pass their part directories with --part"
        case let .unreadablePart(path, reason): "shard part \(path) cannot be read: \(reason)"
        case let .differentManifests(run, expected, foreign):
            "parts of different plans cannot be merged: the run \(run) has manifest \(expected), but "
                + foreign.keys.sorted().map { "manifest \($0) is held by \(foreign[$0]!.sorted().joined(separator: ", "))" }.joined(separator: "; ")
                + ". Remove the foreign parts (they belong to another spec or data) and merge again"
        case let .differentCounts(parts):
            "parts of different shard counts cannot be merged: "
                + parts.keys.sorted().map { "N = \($0): \(parts[$0]!.sorted().joined(separator: ", "))" }.joined(separator: "; ")
                + ". Keep the parts of one N and merge again"
        case let .duplicateShards(shard, parts):
            "shard \(shard) is present twice: \(parts.sorted().joined(separator: " and ")); keep one of them and merge again"
        case let .missingShards(shards, count, resume):
            "missing shard\(shards.count == 1 ? "" : "s") \(shards.joined(separator: ", ")) (of \(count)): no part was found for "
                + (shards.count == 1 ? "it" : "them") + ". Run " + resume.joined(separator: " and ") + ", then merge again"
        case let .incompleteShards(problems):
            "not every shard finished:\n  " + problems.joined(separator: "\n  ") + "\nThen merge again."
        }
    }
}
