/// Problems with datasets and media, each naming the thing and the fix.
public enum DataError: Error, Sendable, CustomStringConvertible {
    case noDatasetsMatch(patterns: [String], available: [String], modalities: [String])
    case emptyDataset(name: String, path: String, format: String)
    case unreadable(path: String, reason: String)
    case unsafeArchive(dataset: String, reason: String)
    case cannotWrite(path: String, reason: String)
    case noRealImagesForSemisynthetic
    case tooFewSamples(dataset: String, wanted: Int, found: Int)

    /// What went wrong, without the path (for a caller whose message names the file itself).
    public static func reason(_ error: any Error) -> String {
        if case let DataError.unreadable(_, reason) = error { return reason }
        return "\(error)"
    }

    public var description: String {
        switch self {
        case let .noDatasetsMatch(patterns, available, modalities):
            let list = available.isEmpty ? "the catalogs define no datasets" : "available: \(available.joined(separator: ", "))"
            return "no catalog dataset of modality \(modalities.joined(separator: "/")) matches \(patterns.joined(separator: ", ")); \(list). Fix the 'datasets' patterns of the real source or the round's modalities."
        case let .emptyDataset(name, path, format):
            let what = format.isEmpty ? "media or archive files" : "'\(format)' files"
            return "dataset '\(name)' has no \(what) at \(path); check its path, source_format and include/exclude paths in the catalog"
        case let .unreadable(path, reason):
            return "cannot read \(path): \(reason)"
        case let .unsafeArchive(dataset, reason):
            return "dataset '\(dataset)': \(reason). The archive was rejected and nothing was extracted; remove the entry from the archive or drop the dataset from the catalog."
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason)"
        case .noRealImagesForSemisynthetic:
            return "semisynthetic_share > 0 needs real images to alter, but the round has no readable real image; add a real image source or set semisynthetic_share: 0"
        case let .tooFewSamples(dataset, wanted, found):
            return "dataset '\(dataset)' has \(found) samples, fewer than the \(wanted) requested"
        }
    }
}
