import Foundation
import GASCore
import Yams

/// One dataset of a catalog, in gasbench's entry style (reference gasbench.md §1.2).
public struct CatalogEntry: Codable, Sendable, Hashable {
    public var name: String
    /// Absolute local path: a folder of media files, one archive, or a folder of archives.
    public var path: String
    public var modality: Modality
    public var mediaType: MediaType
    /// File extension to pick (png, jpg, zip, tar.gz, ...); "" means every known media or archive type.
    public var sourceFormat: String
    /// Per-dataset cap on samples; nil = no cap beyond the source's own `samples`.
    public var maxSamples: Int?
    /// gasbench knobs: items per archive and archives per dataset (-1 or nil = all).
    public var mediaPerArchive: Int?
    public var archivesPerDataset: Int?
    public var includePaths: [String]
    public var excludePaths: [String]
    public var generatorFamily: String?
    public var contentCategory: String?
    /// The catalog file this entry came from.
    public var catalogFile: String

    public init(name: String, path: String, modality: Modality, mediaType: MediaType, sourceFormat: String, maxSamples: Int?,
                mediaPerArchive: Int?, archivesPerDataset: Int?, includePaths: [String], excludePaths: [String],
                generatorFamily: String?, contentCategory: String?, catalogFile: String) {
        self.name = name
        self.path = path
        self.modality = modality
        self.mediaType = mediaType
        self.sourceFormat = sourceFormat
        self.maxSamples = maxSamples
        self.mediaPerArchive = mediaPerArchive
        self.archivesPerDataset = archivesPerDataset
        self.includePaths = includePaths
        self.excludePaths = excludePaths
        self.generatorFamily = generatorFamily
        self.contentCategory = contentCategory
        self.catalogFile = catalogFile
    }

    enum CodingKeys: String, CodingKey {
        case name, path, modality
        case mediaType = "media_type", sourceFormat = "source_format", maxSamples = "max_samples"
        case mediaPerArchive = "media_per_archive", archivesPerDataset = "archives_per_dataset"
        case includePaths = "include_paths", excludePaths = "exclude_paths"
        case generatorFamily = "generator_family", contentCategory = "content_category"
        case catalogFile = "catalog_file"
    }
}

public struct Catalog: Sendable {
    public var entries: [CatalogEntry]
    public var warnings: [SpecDiagnostic]
}

/// Reads dataset catalogs. Local paths are resolved against the catalog file's folder.
public enum CatalogLoader {
    static let keys = ["name", "path", "modality", "media_type", "source_format", "max_samples",
                       "media_per_archive", "archives_per_dataset", "include_paths", "exclude_paths",
                       "generator_family", "content_category", "notes"]
    /// gasbench fields accepted with a warning because this version does not use them.
    static let ignoredKeys = ["source", "data_columns", "filter_column", "filter_value", "original_name",
                              "generator_variant", "benchmark_size"]

    public static let formats = ["", "png", "jpg", "jpeg", "bmp", "gif", "webp", "tiff",
                                 "mp4", "avi", "mov", "mkv", "webm", "wav", "mp3", "flac", "ogg", "m4a",
                                 "zip", "tar", "tar.gz", "tgz", "tar.zst", "parquet"]

    public static func load(paths: [String]) throws -> Catalog {
        var entries: [CatalogEntry] = []
        var diagnostics: [SpecDiagnostic] = []
        var names: [String: String] = [:]
        for path in paths {
            do {
                let catalog = try load(path: path)
                for entry in catalog.entries {
                    if let other = names[entry.name] {
                        diagnostics.append(SpecDiagnostic(file: path, line: 1, column: 1, field: "datasets",
                                                          message: "dataset '\(entry.name)' is also defined in \(other); names must be unique across catalogs"))
                    }
                    names[entry.name] = path
                    entries.append(entry)
                }
                diagnostics += catalog.warnings
            } catch let e as SpecErrors {
                diagnostics += e.diagnostics
            }
        }
        if diagnostics.contains(where: { $0.severity == .error }) { throw SpecErrors(diagnostics) }
        return Catalog(entries: entries, warnings: diagnostics)
    }

    public static func load(path: String) throws -> Catalog {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw SpecErrors([SpecDiagnostic(file: path, line: 1, column: 1, field: "",
                                             message: "catalog file does not exist or is not readable UTF-8 text")])
        }
        return try parse(text: text, file: path, directory: (path as NSString).deletingLastPathComponent)
    }

    public static func parse(text: String, file: String, directory: String) throws -> Catalog {
        let r = YAMLReader(file: file)
        var entries: [CatalogEntry] = []
        if let root = r.compose(text), let top = r.mapping(root, "", allowed: ["datasets"]),
           let list = r.require(top, "datasets", in: root, "", hint: "a catalog is 'datasets:' followed by a list of entries"),
           let items = r.sequence(list, "datasets", of: "dataset entries") {
            var seen: Set<String> = []
            for (i, item) in items.enumerated() {
                guard let entry = readEntry(item, "datasets[\(i)]", r, file: file, directory: directory) else { continue }
                if !seen.insert(entry.name).inserted {
                    r.error(item, "datasets[\(i)].name", "dataset name '\(entry.name)' is used twice")
                }
                entries.append(entry)
            }
        }
        if r.hasErrors { throw SpecErrors(r.diagnostics) }
        return Catalog(entries: entries, warnings: r.diagnostics)
    }

    static func readEntry(_ node: Node, _ field: String, _ r: YAMLReader, file: String, directory: String) -> CatalogEntry? {
        guard let map = r.mapping(node, field, allowed: keys, ignored: ignoredKeys) else { return nil }
        let name = r.require(map, "name", in: node, field).flatMap { r.nonEmptyString($0, "\(field).name") }
        let pathNode = r.require(map, "path", in: node, field, hint: "a folder or archive, relative to the catalog file")
        let path = pathNode.flatMap { r.nonEmptyString($0, "\(field).path") }
        let modality = r.require(map, "modality", in: node, field).flatMap { r.enumValue($0, "\(field).modality", Modality.self) }
        let mediaType = r.require(map, "media_type", in: node, field).flatMap { r.enumValue($0, "\(field).media_type", MediaType.self) }
        var format = ""
        if let f = map["source_format"], let s = r.string(f, "\(field).source_format") {
            let lower = s.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
            if formats.contains(lower) { format = lower } else {
                r.error(f, "\(field).source_format", "'\(s)' is not a known format; use one of \(formats.filter { !$0.isEmpty }.joined(separator: ", ")) or leave it empty to auto-detect")
            }
        }
        let maxSamples = map["max_samples"].flatMap { r.int($0, "\(field).max_samples", min: 1) }
        let perArchive = map["media_per_archive"].flatMap { r.int($0, "\(field).media_per_archive", min: -1) }
        let archives = map["archives_per_dataset"].flatMap { r.int($0, "\(field).archives_per_dataset", min: -1) }
        let include = map["include_paths"].flatMap { r.stringList($0, "\(field).include_paths") } ?? []
        let exclude = map["exclude_paths"].flatMap { r.stringList($0, "\(field).exclude_paths") } ?? []
        let family = map["generator_family"].flatMap { r.string($0, "\(field).generator_family") }
        let category = map["content_category"].flatMap { r.string($0, "\(field).content_category") }
        if let notes = map["notes"] { _ = r.string(notes, "\(field).notes") }

        var resolved: String?
        if let path {
            let absolute = PathResolution.resolve(path, against: directory)
            if FileManager.default.fileExists(atPath: absolute) {
                resolved = absolute
            } else if path.split(separator: "/").count == 2 && !path.hasPrefix(".") {
                r.error(pathNode, "\(field).path", "'\(path)' looks like a hub repository id; this version reads local folders and archives only: download the dataset and point 'path' at it")
            } else {
                r.error(pathNode, "\(field).path", "dataset path '\(path)' does not exist (looked at \(absolute)); paths are relative to the catalog file")
            }
        }
        guard let name, let resolved, let modality, let mediaType else { return nil }
        return CatalogEntry(name: name, path: resolved, modality: modality, mediaType: mediaType, sourceFormat: format,
                            maxSamples: maxSamples, mediaPerArchive: perArchive, archivesPerDataset: archives,
                            includePaths: include, excludePaths: exclude, generatorFamily: family,
                            contentCategory: category, catalogFile: file)
    }
}
