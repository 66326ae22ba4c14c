import Foundation
import GASCore
import GASMedia
import GASSpec

/// Where a candidate sample's bytes are.
public enum MediaLocator: Sendable, Hashable {
    case file(path: String)
    case archiveMember(archive: String, member: String)
    /// One cell of a Parquet file: `row` is the row's index within row group `rowGroup`;
    /// `column` is the dotted leaf name; `base64` when the leaf is text holding base64 media.
    case parquetCell(file: String, rowGroup: Int, row: Int, column: String, base64: Bool)
}

/// A file that could become a sample, before any bytes are read.
public struct Candidate: Sendable, Hashable {
    /// `dataset://<name>/<relative path>` or `dataset://<name>/<archive>#<member>`: stable across
    /// machines because it never contains the absolute location of the dataset. Kept split (the
    /// part up to `#` shared by the file's candidates), as the samples made from them keep it.
    public var sampleURI: SampleURI
    public var uri: String { sampleURI.description }
    public var locator: MediaLocator
    /// The extension the bytes are stored under; "" when only the bytes can tell (Parquet cells).
    public var format: String

    public init(uri: SampleURI, locator: MediaLocator, format: String) {
        self.sampleURI = uri
        self.locator = locator
        self.format = format
    }

    public init(uri: String, locator: MediaLocator, format: String) {
        self.init(uri: SampleURI(uri), locator: locator, format: format)
    }
}

/// Lists the candidate media of a catalog dataset in a canonical (sorted) order, so that sampling
/// never depends on the order a filesystem or archive happens to list things in.
public enum DatasetListing {
    public static let extensions: [Modality: [String]] = [
        .image: ["jpg", "jpeg", "png", "bmp", "gif", "tiff", "webp"],
        .video: ["mp4", "avi", "mov", "mkv", "wmv", "webm", "m4v", "mpeg", "mpg"],
        .audio: ["wav", "mp3", "flac", "ogg", "m4a", "aac"],
    ]
    static let archiveFormats = ["zip", "tar", "tar.gz", "tgz", "tar.zst", "tar.bz2", "tar.xz"]

    /// The extension of a path, treating `.tar.gz` & co. as one.
    public static func format(of path: String) -> String {
        let lower = path.lowercased()
        for compound in ["tar.gz", "tar.zst", "tar.bz2", "tar.xz"] where lower.hasSuffix("." + compound) { return compound }
        return (lower as NSString).pathExtension
    }

    /// Candidates of a dataset plus what went wrong with individual files on the way.
    public struct Listing: Sendable {
        public var candidates: [Candidate]
        public var problems: [ListingProblem]
        /// Files (media, archives, Parquet shards) the listing looked at.
        public var files: Int
    }

    public static func list(_ entry: CatalogEntry, limits: ArchiveLimits = .default) throws -> [Candidate] {
        try listDetailed(entry, limits: limits).candidates
    }

    /// Lists a dataset. A Parquet shard that cannot be read, or has no media column, is a problem
    /// of that file and the other shards still count. Archives that cannot be read throw
    /// (`unsafeArchive`: a hostile archive stops the run), unless `tolerant`, which turns them into
    /// problems too (for `gascli datasets check`).
    public static func listDetailed(_ entry: CatalogEntry, limits: ArchiveLimits = .default, tolerant: Bool = false) throws -> Listing {
        let mediaExtensions = extensions[entry.modality] ?? []
        let wanted = entry.sourceFormat
        let wantsArchive = wanted.isEmpty || archiveFormats.contains(wanted)
        let wantsParquet = wanted.isEmpty || wanted == "parquet"
        let wantsMedia = wanted.isEmpty || mediaExtensions.contains(wanted) || (wanted == "jpg" && entry.modality == .image)

        func keep(_ relative: String) -> Bool {
            if !entry.includePaths.isEmpty && !entry.includePaths.contains(where: { relative.contains($0) }) { return false }
            if entry.excludePaths.contains(where: { relative.contains($0) }) { return false }
            return !relative.contains("__MACOSX")
        }
        func matchesMedia(_ format: String) -> Bool {
            guard mediaExtensions.contains(format) else { return false }
            if wanted.isEmpty || archiveFormats.contains(wanted) { return true }
            return format == wanted || (["jpg", "jpeg"].contains(wanted) && ["jpg", "jpeg"].contains(format))
        }

        var files: [(relative: String, absolute: String)] = []
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: entry.path, isDirectory: &isDirectory) else {
            throw DataError.unreadable(path: entry.path, reason: "dataset '\(entry.name)' path does not exist")
        }
        if isDirectory.boolValue {
            guard let walker = FileManager.default.enumerator(atPath: entry.path) else {
                throw DataError.unreadable(path: entry.path, reason: "cannot list the folder")
            }
            while let item = walker.nextObject() as? String {
                let absolute = (entry.path as NSString).appendingPathComponent(item)
                var dir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: absolute, isDirectory: &dir), !dir.boolValue else { continue }
                if (item as NSString).lastPathComponent.hasPrefix(".") { continue }
                files.append((item, absolute))
            }
        } else {
            files.append(((entry.path as NSString).lastPathComponent, entry.path))
        }
        files.sort { $0.relative < $1.relative }

        var candidates: [Candidate] = []
        var problems: [ListingProblem] = []
        var archivesUsed = 0
        var filesSeen = 0
        for file in files {
            let fmt = format(of: file.relative)
            if wantsParquet, fmt == "parquet", keep(file.relative) {
                if let cap = entry.archivesPerDataset, cap >= 0, archivesUsed >= cap { continue }
                archivesUsed += 1
                filesSeen += 1
                let listed = ParquetSource.list(file: file, entry: entry)
                if candidates.isEmpty { candidates = listed.candidates } else { candidates += listed.candidates }
                problems += listed.problems
            } else if wantsMedia, matchesMedia(fmt), keep(file.relative) {
                filesSeen += 1
                candidates.append(Candidate(uri: "dataset://\(entry.name)/\(file.relative)", locator: .file(path: file.absolute), format: normalized(fmt)))
            } else if wantsArchive, archiveFormats.contains(fmt), wanted.isEmpty || fmt == wanted || (wanted == "tgz" && fmt == "tar.gz") || (wanted == "tar.gz" && fmt == "tgz") {
                if let cap = entry.archivesPerDataset, cap >= 0, archivesUsed >= cap { continue }
                archivesUsed += 1
                filesSeen += 1
                var members: [Candidate] = []
                let head = "dataset://\(entry.name)/\(file.relative)#"
                do {
                    let reader = try ArchiveReader(path: file.absolute, limits: limits)
                    try reader.forEachEntry { item, _ in
                        guard item.kind == .regular else { return }
                        let mfmt = format(of: item.path)
                        guard matchesMedia(mfmt), keep(file.relative + "/" + item.path) else { return }
                        members.append(Candidate(uri: SampleURI(head: head, tail: item.path),
                                                 locator: .archiveMember(archive: file.absolute, member: item.path), format: normalized(mfmt)))
                    }
                } catch let error as MediaError {
                    if tolerant {
                        problems.append(ListingProblem(file: file.absolute, reason: error.description))
                        continue
                    }
                    throw DataError.unsafeArchive(dataset: entry.name, reason: error.description)
                }
                members.sort { $0.sampleURI < $1.sampleURI }
                if let perArchive = entry.mediaPerArchive, perArchive >= 0, members.count > perArchive {
                    var rng = SplitMix64(seed: 0, label: "archive:" + file.relative)
                    rng.shuffle(&members)
                    members = Array(members.prefix(perArchive)).sorted { $0.sampleURI < $1.sampleURI }
                }
                candidates += members
            }
        }
        return Listing(candidates: candidates, problems: problems, files: filesSeen)
    }

    static func normalized(_ format: String) -> String { format == "jpeg" ? "jpg" : format }
}

/// Deterministic selection: sort, shuffle with SplitMix64 seeded by (round seed, dataset name), take n.
public enum Sampler {
    public static func select(_ candidates: [Candidate], count: Int?, seed: UInt64, dataset: String) -> [Candidate] {
        // Indices are sorted and shuffled (the same permutation as shuffling the candidates, without
        // moving them), then the chosen candidates are taken once.
        var pool = candidates.indices.sorted { candidates[$0].sampleURI < candidates[$1].sampleURI }
        var rng = SplitMix64(seed: seed, label: "dataset:" + dataset)
        rng.shuffle(&pool)
        return pool.prefix(count ?? pool.count).map { candidates[$0] }
    }

    /// gasbench's weighted per-dataset sampling (`calculate_weighted_dataset_sampling`, §1.7) for a
    /// total T over the matched datasets, then each dataset's own `max_samples`:
    ///
    ///     G = #names containing "gasstation", R = the others
    ///     G == 0: cap = min(2000, T / (R + G)) for every dataset
    ///     else:   u = T / (R + 5·G); reg = int(u); gas = int(5u); even = max(1, T / (R + G))
    ///             reg = min(2000, max(min(100, even), reg)); gas = min(10000, max(min(500, max(1, int(5·even))), gas))
    ///
    /// Constants as in gasbench: regular min 100 / max 2000, gasstation min 500 / max 10000,
    /// gasstation weight 5. A cap of 0 becomes 10000 (gasbench's `max_samples or 10000`).
    public static let weightedRegular = (min: 100, max: 2000)
    public static let weightedGasstation = (min: 500, max: 10000, weight: 5.0)

    public static func weightedQuotas(total: Int, datasets: [CatalogEntry]) -> [String: Int?] {
        let gas = datasets.filter { $0.name.lowercased().contains("gasstation") }.count
        let regular = datasets.count - gas
        guard datasets.count > 0 else { return [:] }
        var regularCap: Int, gasCap: Int
        if gas == 0 {
            regularCap = min(weightedRegular.max, total / datasets.count)
            gasCap = regularCap
        } else {
            let u = Double(total) / (Double(regular) + weightedGasstation.weight * Double(gas))
            let even = max(1, total / datasets.count)
            let regularMin = min(weightedRegular.min, even)
            let gasMin = min(weightedGasstation.min, max(1, Int(Double(even) * weightedGasstation.weight)))
            regularCap = min(weightedRegular.max, max(regularMin, Int(u)))
            gasCap = min(weightedGasstation.max, max(gasMin, Int(u * weightedGasstation.weight)))
        }
        var result: [String: Int?] = [:]
        for entry in datasets {
            var quota = entry.name.lowercased().contains("gasstation") ? gasCap : regularCap
            if quota == 0 { quota = 10000 }
            if let cap = entry.maxSamples { quota = min(quota, cap) }
            result[entry.name] = quota
        }
        return result
    }

    /// Splits a total budget evenly over datasets (the remainder goes to the first ones in name
    /// order), then applies each dataset's cap.
    public static func quotas(total: Int?, datasets: [CatalogEntry]) -> [String: Int?] {
        var result: [String: Int?] = [:]
        let sorted = datasets.sorted { $0.name < $1.name }
        for (i, entry) in sorted.enumerated() {
            var quota: Int? = nil
            if let total {
                quota = total / sorted.count + (i < total % sorted.count ? 1 : 0)
            }
            if let cap = entry.maxSamples { quota = min(quota ?? cap, cap) }
            result[entry.name] = quota
        }
        return result
    }
}

/// `*` and `?` globs over dataset names.
public enum NamePattern {
    public static func matches(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern), n = Array(name)
        var memo: [Int: Bool] = [:]
        func go(_ i: Int, _ j: Int) -> Bool {
            let key = i * (n.count + 1) + j
            if let v = memo[key] { return v }
            let result: Bool
            if i == p.count { result = j == n.count }
            else if p[i] == "*" { result = go(i + 1, j) || (j < n.count && go(i, j + 1)) }
            else { result = j < n.count && (p[i] == "?" || p[i] == n[j]) && go(i + 1, j + 1) }
            memo[key] = result
            return result
        }
        return go(0, 0)
    }
}
