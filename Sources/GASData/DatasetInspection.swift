import Foundation
import GASCore
import GASMedia
import GASSpec

/// What `gascli datasets check` finds out about one catalog dataset.
public struct DatasetHealth: Sendable, Encodable {
    public struct Unreadable: Sendable, Encodable {
        public var item: String
        public var reason: String
    }

    public var name: String
    public var modality: String
    public var mediaType: String
    public var label: Int
    public var sourceFormat: String
    public var path: String
    /// Files (media, archives, Parquet shards) looked at.
    public var files: Int
    /// Candidate samples (files, archive members, Parquet rows × media columns).
    public var candidates: Int
    /// Candidates whose bytes were read and checked.
    public var checked: Int
    /// Stored format (sniffed from the bytes) -> count, over the checked candidates.
    public var formats: [String: Int]
    /// Files that could not be listed and candidates whose bytes are not readable media.
    public var unreadable: [Unreadable]
    public var notes: [String]
    /// nil when the dataset can give samples; otherwise why not.
    public var unusableReason: String?

    enum CodingKeys: String, CodingKey {
        case name, modality, label, path, files, candidates, checked, formats, unreadable, notes
        case mediaType = "media_type", sourceFormat = "source_format", unusableReason = "unusable_reason"
    }
}

public enum DatasetInspection {
    /// Lists and, up to `limit` candidates per dataset (nil = all), reads and validates a dataset.
    /// Never throws: every problem, hostile archives included, ends up in the report.
    public static func check(_ entry: CatalogEntry, limit: Int? = nil, archiveLimits: ArchiveLimits = .default,
                             imageLimits: ImageLimits = .default) -> DatasetHealth {
        var health = DatasetHealth(name: entry.name, modality: entry.modality.rawValue, mediaType: entry.mediaType.rawValue,
                                   label: entry.mediaType.label, sourceFormat: entry.sourceFormat.isEmpty ? "auto" : entry.sourceFormat,
                                   path: entry.path, files: 0, candidates: 0, checked: 0, formats: [:], unreadable: [], notes: [])
        if let reason = entry.unavailableReason {
            health.unusableReason = reason
            return health
        }
        let listing: DatasetListing.Listing
        do {
            listing = try DatasetListing.listDetailed(entry, limits: archiveLimits, tolerant: true)
        } catch {
            health.unusableReason = "\(error)"
            return health
        }
        health.files = listing.files
        health.candidates = listing.candidates.count
        for problem in listing.problems {
            if problem.severity == .note {
                health.notes.append(problem.description)
            } else {
                health.unreadable.append(.init(item: problem.file, reason: problem.reason))
            }
        }
        let chosen = limit.map { Array(listing.candidates.prefix($0)) } ?? listing.candidates
        do {
            try SampleCollector.forEachBytes(of: chosen, dataset: entry.name, limits: archiveLimits) { index, result in
                let candidate = chosen[index]
                health.checked += 1
                switch result {
                case .failure(let problem):
                    health.unreadable.append(.init(item: candidate.uri, reason: problem.reason))
                case .success(let bytes):
                    let format = candidate.format.isEmpty ? (MediaFormat.sniff(bytes) ?? "unknown") : candidate.format
                    health.formats[format, default: 0] += 1
                    if let p = MediaValidation.problem(bytes: bytes, format: format == "unknown" ? "bin" : format,
                                                       modality: entry.modality, imageLimits: imageLimits) {
                        health.unreadable.append(.init(item: candidate.uri, reason: p.reason))
                    }
                }
            }
        } catch {
            health.unreadable.append(.init(item: entry.path, reason: "\(error)"))
        }
        if health.candidates == 0 {
            health.unusableReason = health.unreadable.first.map { "no samples: \($0.item): \($0.reason)" }
                ?? "no \(entry.modality.rawValue) files found (source_format '\(health.sourceFormat)', include/exclude paths \(entry.includePaths)/\(entry.excludePaths))"
        } else if health.checked > 0 && health.checked == health.unreadable.filter({ $0.item.hasPrefix("dataset://") }).count {
            health.unusableReason = "none of the \(health.checked) checked samples is readable \(entry.modality.rawValue)"
        }
        return health
    }
}
