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
    /// Parquet: the media columns to read (gasbench `data_columns`); each yields its own sample per
    /// row. Empty = detect the column from its name (gasbench.md §1.8 step 6).
    public var dataColumns: [String]
    /// Parquet: keep only rows whose `filterColumn` equals `filterValue` (compared as text).
    public var filterColumn: String?
    public var filterValue: String?
    /// Why the dataset cannot be read here (its path does not exist locally), when the catalog was
    /// loaded leniently (`gascli datasets list`); nil for every entry of a strictly loaded catalog.
    public var unavailableReason: String?

    public init(name: String, path: String, modality: Modality, mediaType: MediaType, sourceFormat: String, maxSamples: Int?,
                mediaPerArchive: Int?, archivesPerDataset: Int?, includePaths: [String], excludePaths: [String],
                generatorFamily: String?, contentCategory: String?, catalogFile: String,
                dataColumns: [String] = [], filterColumn: String? = nil, filterValue: String? = nil,
                unavailableReason: String? = nil) {
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
        self.dataColumns = dataColumns
        self.filterColumn = filterColumn
        self.filterValue = filterValue
        self.unavailableReason = unavailableReason
    }

    enum CodingKeys: String, CodingKey {
        case name, path, modality
        case mediaType = "media_type", sourceFormat = "source_format", maxSamples = "max_samples"
        case mediaPerArchive = "media_per_archive", archivesPerDataset = "archives_per_dataset"
        case includePaths = "include_paths", excludePaths = "exclude_paths"
        case generatorFamily = "generator_family", contentCategory = "content_category"
        case catalogFile = "catalog_file"
        case dataColumns = "data_columns", filterColumn = "filter_column", filterValue = "filter_value"
        case unavailableReason = "unavailable_reason"
    }
}

public struct Catalog: Sendable {
    public var entries: [CatalogEntry]
    public var warnings: [SpecDiagnostic]

    public init(entries: [CatalogEntry], warnings: [SpecDiagnostic] = []) {
        self.entries = entries
        self.warnings = warnings
    }
}

/// How strictly a catalog's dataset paths are checked.
public struct CatalogOptions: Sendable {
    /// true (runs, validate): a dataset path that does not exist is an error. false (`gascli
    /// datasets list|check`): the entry loads with `unavailableReason` set, so gasbench's own
    /// catalogs, whose paths are hub repository ids, load as they are.
    public var requireLocalPaths: Bool
    /// Where hub repository ids (`org/name`) are looked for when they are not found next to the
    /// catalog: `<dataRoot>/<org>/<name>` (e.g. a `huggingface-cli download --local-dir` tree).
    /// Default: the `GASCLI_DATA_ROOT` environment variable.
    public var dataRoot: String?

    public init(requireLocalPaths: Bool = true, dataRoot: String? = ProcessInfo.processInfo.environment["GASCLI_DATA_ROOT"]) {
        self.requireLocalPaths = requireLocalPaths
        self.dataRoot = dataRoot.flatMap { $0.isEmpty ? nil : $0 }
    }

    public static let strict = CatalogOptions()
}

/// Reads dataset catalogs. Local paths are resolved against the catalog file's folder.
public enum CatalogLoader {
    static let keys = ["name", "path", "modality", "media_type", "source_format", "max_samples",
                       "media_per_archive", "archives_per_dataset", "include_paths", "exclude_paths",
                       "generator_family", "content_category", "notes", "data_columns", "filter_column", "filter_value"]
    /// gasbench fields accepted with a warning because this version does not use them
    /// (`source`: datasets are read from local paths; the others are informational in gasbench too).
    static let ignoredKeys = ["source", "original_name", "generator_variant", "benchmark_size"]
    /// Top-level keys: `datasets:` (one list) or gasbench's grouped form, one list per modality.
    static let topKeys = ["datasets", "image", "video", "audio"]

    public static let formats = ["", "png", "jpg", "jpeg", "bmp", "gif", "webp", "tiff", "tif",
                                 "mp4", "avi", "mov", "mkv", "webm", "wmv", "m4v", "mpeg", "mpg",
                                 "wav", "mp3", "flac", "ogg", "m4a", "aac",
                                 "zip", "tar", "tar.gz", "tgz", "tar.zst", "tar.bz2", "tar.xz", "parquet"]

    public static func load(paths: [String], options: CatalogOptions = .strict) throws -> Catalog {
        var entries: [CatalogEntry] = []
        var diagnostics: [SpecDiagnostic] = []
        var names: [String: String] = [:]
        for path in paths {
            do {
                let catalog = try load(path: path, options: options)
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

    public static func load(path: String, options: CatalogOptions = .strict) throws -> Catalog {
        let text: String
        do { text = try TextFile.read(path) } catch {
            throw SpecErrors([SpecDiagnostic(file: path, line: 1, column: 1, field: "", message: "the catalog file \(error.description)")])
        }
        return try parse(text: text, file: path, directory: (path as NSString).deletingLastPathComponent, options: options)
    }

    /// Reads `{datasets: [...]}` or gasbench's grouped `{image: [...], video: [...], audio: [...]}`.
    /// In the grouped form an entry may leave out `modality` (its group gives it); a modality
    /// that contradicts the group is an error. In the `datasets:` form an entry without
    /// `modality` takes the first entry's, as gasbench does, with a warning.
    public static func parse(text: String, file: String, directory: String, options: CatalogOptions = .strict) throws -> Catalog {
        let r = YAMLReader(file: file)
        var entries: [CatalogEntry] = []
        if let root = r.compose(text), let top = r.mapping(root, "", allowed: topKeys) {
            var seen: Set<String> = []
            var groups: [(key: String, node: Node, modality: Modality?)] = []
            if let list = top["datasets"] { groups.append(("datasets", list, nil)) }
            for modality in Modality.allCases {
                if let list = top[modality.rawValue] { groups.append((modality.rawValue, list, modality)) }
            }
            if groups.isEmpty {
                r.error(root, "datasets", "missing required field 'datasets'; a catalog is 'datasets:' followed by a list of entries, or gasbench's grouped form with 'image:', 'video:' and 'audio:' lists")
            }
            if top["datasets"] != nil && groups.count > 1 {
                r.error(root, "", "use either 'datasets:' or the grouped 'image:'/'video:'/'audio:' lists, not both")
            }
            for group in groups {
                if isNull(group.node) { continue }
                guard let items = r.sequence(group.node, group.key, of: "dataset entries") else { continue }
                var firstModality: Modality? = group.modality
                for (i, item) in items.enumerated() {
                    let field = "\(group.key)[\(i)]"
                    guard let entry = readEntry(item, field, r, file: file, directory: directory, options: options,
                                                defaultModality: firstModality, grouped: group.modality != nil) else { continue }
                    if firstModality == nil { firstModality = entry.modality }
                    if !seen.insert(entry.name).inserted {
                        r.error(item, "\(field).name", "dataset name '\(entry.name)' is used twice")
                    }
                    entries.append(entry)
                }
            }
        }
        if r.hasErrors { throw SpecErrors(r.diagnostics) }
        return Catalog(entries: entries, warnings: r.diagnostics)
    }

    static func isNull(_ node: Node) -> Bool {
        guard case let .scalar(s) = node, s.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    static func readEntry(_ node: Node, _ field: String, _ r: YAMLReader, file: String, directory: String,
                          options: CatalogOptions = .strict, defaultModality: Modality? = nil, grouped: Bool = false) -> CatalogEntry? {
        guard let map = r.mapping(node, field, allowed: keys, ignored: ignoredKeys)?.filter({ !isNull($0.value) || $0.key == "name" || $0.key == "path" }) else { return nil }
        let name = r.require(map, "name", in: node, field).flatMap { r.nonEmptyString($0, "\(field).name") }
        let pathNode = r.require(map, "path", in: node, field, hint: "a folder or archive, relative to the catalog file")
        let path = pathNode.flatMap { r.nonEmptyString($0, "\(field).path") }
        var modality: Modality?
        if let m = map["modality"] {
            modality = r.enumValue(m, "\(field).modality", Modality.self)
            if grouped, let modality, let defaultModality, modality != defaultModality {
                r.error(m, "\(field).modality", "'\(modality.rawValue)' contradicts the '\(defaultModality.rawValue):' group the entry is listed under")
            }
        } else if let defaultModality {
            modality = defaultModality
            if !grouped {
                r.warning(node, "\(field).modality", "no modality; taking '\(defaultModality.rawValue)' from the first entry, as gasbench does")
            }
        } else {
            _ = r.require(map, "modality", in: node, field)
        }
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
        let dataColumns = map["data_columns"].flatMap { r.stringList($0, "\(field).data_columns") } ?? []
        let filterColumn = map["filter_column"].flatMap { r.nonEmptyString($0, "\(field).filter_column") }
        var filterValue: String?
        if let v = map["filter_value"] {
            if case let .scalar(scalar) = v { filterValue = scalar.string } else {
                r.error(v, "\(field).filter_value", "expected a single value to compare with, found \(r.describe(v))")
            }
        }
        if (filterColumn == nil) != (filterValue == nil) {
            r.error(node, "\(field).\(filterColumn == nil ? "filter_column" : "filter_value")",
                    "filter_column and filter_value go together: rows are kept where filter_column equals filter_value")
        }
        if (!dataColumns.isEmpty || filterColumn != nil) && !["parquet", ""].contains(format) {
            r.warning(node, "\(field)", "data_columns and filter_column apply to parquet datasets only; source_format is '\(format)'")
        }

        var resolved: String?
        var unavailable: String?
        if let path {
            let absolute = PathResolution.resolve(path, against: directory)
            let looksLikeHubID = path.split(separator: "/").count == 2 && !path.hasPrefix(".") && !path.hasPrefix("/")
            let underRoot = options.dataRoot.map { PathResolution.resolve(path, against: $0) }
            if FileManager.default.fileExists(atPath: absolute) {
                resolved = absolute
            } else if looksLikeHubID, let underRoot, FileManager.default.fileExists(atPath: underRoot) {
                resolved = underRoot
            } else {
                let message = looksLikeHubID
                    ? "'\(path)' looks like a hub repository id and is not on this machine (looked at \(absolute)\(underRoot.map { " and \($0)" } ?? "")); this version reads local folders and archives only: download the dataset and point 'path' at it, or set GASCLI_DATA_ROOT (--data-root) to the folder that holds <org>/<name>"
                    : "dataset path '\(path)' does not exist (looked at \(absolute)); paths are relative to the catalog file"
                if options.requireLocalPaths {
                    r.error(pathNode, "\(field).path", message)
                } else {
                    resolved = underRoot ?? absolute
                    unavailable = looksLikeHubID ? "not downloaded: \(path) is not at \(resolved ?? absolute)" : "path does not exist: \(absolute)"
                }
            }
        }
        guard let name, let resolved, let modality, let mediaType else { return nil }
        return CatalogEntry(name: name, path: resolved, modality: modality, mediaType: mediaType, sourceFormat: format,
                            maxSamples: maxSamples, mediaPerArchive: perArchive, archivesPerDataset: archives,
                            includePaths: include, excludePaths: exclude, generatorFamily: family,
                            contentCategory: category, catalogFile: file, dataColumns: dataColumns,
                            filterColumn: filterColumn, filterValue: filterValue, unavailableReason: unavailable)
    }
}
