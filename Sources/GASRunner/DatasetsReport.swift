import Foundation
import GASCore
import GASData
import GASSpec

/// `gascli datasets list|check`: a catalog's datasets, as gasbench or gascli wrote them.
public enum DatasetsReport {
    public struct Row: Sendable, Encodable {
        public var name: String
        public var modality: String
        public var mediaType: String
        public var label: Int
        public var sourceFormat: String
        public var path: String
        public var available: Bool
        public var unavailableReason: String?
        public var maxSamples: Int?
        public var mediaPerArchive: Int?
        public var archivesPerDataset: Int?
        public var dataColumns: [String]
        public var filter: String?

        enum CodingKeys: String, CodingKey {
            case name, modality, label, path, available, filter
            case mediaType = "media_type", sourceFormat = "source_format", unavailableReason = "unavailable_reason"
            case maxSamples = "max_samples", mediaPerArchive = "media_per_archive", archivesPerDataset = "archives_per_dataset"
            case dataColumns = "data_columns"
        }
    }

    public struct Listing: Sendable, Encodable {
        public var catalogs: [String]
        public var datasets: [Row]
        public var warnings: [String]
    }

    public struct Check: Sendable, Encodable {
        public var catalogs: [String]
        public var datasets: [DatasetHealth]
        public var warnings: [String]
        public var unusable: Int { datasets.filter { $0.unusableReason != nil }.count }
    }

    /// Loads catalogs leniently: paths that are not on this machine (hub ids) are listed as unavailable.
    static func load(_ paths: [String], dataRoot: String?, modality: String?, patterns: [String]) throws -> (entries: [CatalogEntry], warnings: [String]) {
        var options = CatalogOptions(requireLocalPaths: false)
        if let dataRoot { options.dataRoot = PathResolution.resolve(dataRoot, against: FileManager.default.currentDirectoryPath) }
        let resolved = paths.map { PathResolution.resolve($0, against: FileManager.default.currentDirectoryPath) }
        let catalog = try CatalogLoader.load(paths: resolved, options: options)
        var entries = catalog.entries
        if let modality { entries = entries.filter { $0.modality.rawValue == modality } }
        if !patterns.isEmpty { entries = entries.filter { e in patterns.contains { NamePattern.matches($0, e.name) } } }
        return (entries, catalog.warnings.map(\.description))
    }

    public static func list(catalogs: [String], dataRoot: String? = nil, modality: String? = nil, patterns: [String] = []) throws -> Listing {
        let (entries, warnings) = try load(catalogs, dataRoot: dataRoot, modality: modality, patterns: patterns)
        let rows = entries.map { e in
            Row(name: e.name, modality: e.modality.rawValue, mediaType: e.mediaType.rawValue, label: e.mediaType.label,
                sourceFormat: e.sourceFormat.isEmpty ? "auto" : e.sourceFormat, path: e.path, available: e.unavailableReason == nil,
                unavailableReason: e.unavailableReason, maxSamples: e.maxSamples, mediaPerArchive: e.mediaPerArchive,
                archivesPerDataset: e.archivesPerDataset, dataColumns: e.dataColumns,
                filter: e.filterColumn.map { "\($0) == \(e.filterValue ?? "")" })
        }
        return Listing(catalogs: catalogs, datasets: rows, warnings: warnings)
    }

    public static func check(catalogs: [String], dataRoot: String? = nil, modality: String? = nil, patterns: [String] = [],
                             limit: Int? = nil, progress: (String, Int, Int) -> Void = { _, _, _ in }) throws -> Check {
        let (entries, warnings) = try load(catalogs, dataRoot: dataRoot, modality: modality, patterns: patterns)
        var results: [DatasetHealth] = []
        for (i, entry) in entries.enumerated() {
            progress(entry.name, i + 1, entries.count)
            results.append(DatasetInspection.check(entry, limit: limit))
        }
        return Check(catalogs: catalogs, datasets: results, warnings: warnings)
    }
}
