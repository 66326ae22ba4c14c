import Foundation
import GASCore
import GASSpec
import GASStore

/// Why a member could not be used, phrased to name the member (never a temporary path).
struct LoadProblem: Error {
    var message: String
}

typealias Loaded<T> = Result<T, LoadProblem>

/// The ledger's rows for the bundle's run.
struct LedgerContents {
    var run: RunRecord
    var samples: [PlannedSample]
    var outcomes: [DetectorOutcome]
    var metrics: [StoredMetricRow]
    var scores: [StoredDetectorScore]
}

/// results.json as far as the audit reads it.
struct RecordedResults: Decodable {
    struct Run: Decodable {
        var id: String
        var manifestHash: String
        enum CodingKeys: String, CodingKey {
            case id
            case manifestHash = "manifest_hash"
        }
    }

    struct Detector: Decodable {
        var overall: BinaryMetrics
        var sn34: Double
        var coverage: Double
        var invalidated: Bool
        var invalidReason: String?
        var statusCounts: [String: Int]
        var breakdowns: [String: [String: BinaryMetrics]]
        enum CodingKeys: String, CodingKey {
            case overall, sn34, coverage, invalidated, breakdowns
            case invalidReason = "invalid_reason", statusCounts = "status_counts"
        }
    }

    struct LeaderboardRow: Decodable {
        var rank: Int
        var detector: String
        var sn34: Double
        var accuracy: Double
        var mcc: Double
        var brier: Double
        var coverage: Double
        var invalidated: Bool
    }

    var run: Run
    var detectors: [String: Detector]
    var leaderboard: [LeaderboardRow]
}

/// Every member decoded once, each as a value or the reason it could not be read. Checks take
/// what they need from here; a member that failed to load fails every check that needs it.
struct AuditEvidence {
    let contents: BundleContents
    let checksums: Loaded<ChecksumsFile>
    let plan: Loaded<RunPlan>
    let resolvedSpec: Loaded<RoundSpec>
    let results: Loaded<RecordedResults>
    let dataHashes: Loaded<[String: DataHash]>
    let predictions: Loaded<[PredictionRow]>
    let metricsFile: Loaded<[MetricsFileRow]>
    let ledger: Loaded<LedgerContents>

    var runID: String { contents.runID }

    /// Decodes the JSON members in memory; the Parquet files and the ledger need a file, so they
    /// are written under fixed names into `scratch` (a fresh private folder) and read from there.
    init(_ contents: BundleContents, scratch: TemporaryFolder) {
        self.contents = contents
        checksums = Self.json(.checksums, contents)
        plan = Self.json(.manifest, contents)
        resolvedSpec = Self.json(.resolvedSpec, contents)
        results = Self.json(.results, contents)
        dataHashes = Self.json(.dataHashes, contents)
        predictions = Self.file(.predictions, contents, scratch) { try ResultFiles.readPredictions(path: $0) }
        metricsFile = Self.file(.metrics, contents, scratch) { try ResultFiles.readMetrics(path: $0) }
        let runID = contents.runID
        ledger = Self.file(.ledger, contents, scratch) { path in
            let snapshot = try LedgerSnapshot(path: path)
            defer { try? snapshot.close() }
            guard let run = try snapshot.run(id: runID) else {
                let found = try snapshot.runIDs()
                throw LoadProblem(message: "ledger.sqlite records no run '\(runID)' (it records: \(found.isEmpty ? "none" : found.joined(separator: ", ")))")
            }
            return LedgerContents(run: run, samples: try snapshot.samples(runID: runID), outcomes: try snapshot.outcomes(runID: runID),
                                  metrics: try snapshot.metricRows(runID: runID), scores: try snapshot.detectorScores(runID: runID))
        }
    }

    func bytes(_ member: AuditBundle.Member) -> Loaded<[UInt8]> {
        guard let bytes = contents.files[member] else { return .failure(Self.missing(member)) }
        return .success(bytes)
    }

    private static func missing(_ member: AuditBundle.Member) -> LoadProblem {
        LoadProblem(message: "\(member.rawValue) is missing from the bundle")
    }

    private static func json<T: Decodable>(_ member: AuditBundle.Member, _ contents: BundleContents) -> Loaded<T> {
        guard let bytes = contents.files[member] else { return .failure(missing(member)) }
        do {
            return .success(try JSONDecoder().decode(T.self, from: Data(bytes)))
        } catch {
            return .failure(LoadProblem(message: "\(member.rawValue) cannot be decoded: \(describe(error))"))
        }
    }

    private static func file<T>(_ member: AuditBundle.Member, _ contents: BundleContents, _ scratch: TemporaryFolder,
                                _ read: (String) throws -> T) -> Loaded<T> {
        guard let bytes = contents.files[member] else { return .failure(missing(member)) }
        let path = scratch.file(member.rawValue)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            return .failure(LoadProblem(message: "\(member.rawValue) cannot be staged in \(scratch.path) (check free space)"))
        }
        do {
            return .success(try read(path))
        } catch let problem as LoadProblem {
            return .failure(problem)
        } catch {
            var text = "\(error)".replacingOccurrences(of: scratch.path + "/", with: "")
            if text.hasPrefix(member.rawValue + ": ") { text.removeFirst(member.rawValue.count + 2) }
            return .failure(LoadProblem(message: "\(member.rawValue) cannot be read: \(text)"))
        }
    }

    /// A decoding error as one line: what was wrong and where.
    static func describe(_ error: Error) -> String {
        func at(_ path: [CodingKey]) -> String {
            path.isEmpty ? "" : " at " + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?: return "missing '\(key.stringValue)'\(at(context.codingPath))"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .dataCorrupted(let context)?:
            return context.debugDescription + at(context.codingPath)
        default: return "\(error)"
        }
    }
}
