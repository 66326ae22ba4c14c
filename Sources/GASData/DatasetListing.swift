import Foundation
import GASCore
import GASMedia
import GASSpec

/// Where a candidate sample's bytes are.
public enum MediaLocator: Sendable, Hashable {
    case file(path: String)
    case archiveMember(archive: String, member: String)
}

/// A file that could become a sample, before any bytes are read.
public struct Candidate: Sendable, Hashable {
    /// `dataset://<name>/<relative path>` or `dataset://<name>/<archive>#<member>`: stable across
    /// machines because it never contains the absolute location of the dataset.
    public var uri: String
    public var locator: MediaLocator
    public var format: String
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

    public static func list(_ entry: CatalogEntry, limits: ArchiveLimits = .default) throws -> [Candidate] {
        let mediaExtensions = extensions[entry.modality] ?? []
        let wanted = entry.sourceFormat
        let wantsArchive = wanted.isEmpty || archiveFormats.contains(wanted)
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
        var archivesUsed = 0
        for file in files {
            let fmt = format(of: file.relative)
            if wantsMedia, matchesMedia(fmt), keep(file.relative) {
                candidates.append(Candidate(uri: "dataset://\(entry.name)/\(file.relative)", locator: .file(path: file.absolute), format: normalized(fmt)))
            } else if wantsArchive, archiveFormats.contains(fmt), wanted.isEmpty || fmt == wanted || (wanted == "tgz" && fmt == "tar.gz") || (wanted == "tar.gz" && fmt == "tgz") {
                if let cap = entry.archivesPerDataset, cap >= 0, archivesUsed >= cap { continue }
                archivesUsed += 1
                var members: [Candidate] = []
                do {
                    let reader = try ArchiveReader(path: file.absolute, limits: limits)
                    try reader.forEachEntry { item, _ in
                        guard item.kind == .regular else { return }
                        let mfmt = format(of: item.path)
                        guard matchesMedia(mfmt), keep(file.relative + "/" + item.path) else { return }
                        members.append(Candidate(uri: "dataset://\(entry.name)/\(file.relative)#\(item.path)",
                                                 locator: .archiveMember(archive: file.absolute, member: item.path), format: normalized(mfmt)))
                    }
                } catch let error as MediaError {
                    throw DataError.unsafeArchive(dataset: entry.name, reason: error.description)
                }
                members.sort { $0.uri < $1.uri }
                if let perArchive = entry.mediaPerArchive, perArchive >= 0, members.count > perArchive {
                    var rng = SplitMix64(seed: 0, label: "archive:" + file.relative)
                    rng.shuffle(&members)
                    members = Array(members.prefix(perArchive)).sorted { $0.uri < $1.uri }
                }
                candidates += members
            }
        }
        return candidates
    }

    static func normalized(_ format: String) -> String { format == "jpeg" ? "jpg" : format }
}

/// Deterministic selection: sort, shuffle with SplitMix64 seeded by (round seed, dataset name), take n.
public enum Sampler {
    public static func select(_ candidates: [Candidate], count: Int?, seed: UInt64, dataset: String) -> [Candidate] {
        var pool = candidates.sorted { $0.uri < $1.uri }
        var rng = SplitMix64(seed: seed, label: "dataset:" + dataset)
        rng.shuffle(&pool)
        guard let count else { return pool }
        return Array(pool.prefix(count))
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
