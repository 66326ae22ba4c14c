/// Every failure of image decoding/encoding and archive reading. Why one type: callers
/// (dataset readers, the runner) turn these into per-sample outcomes, so each case is
/// specific enough to count and its description tells a user what to do.
public enum MediaError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes stop before the image does (a cut download, a partial copy).
    case truncatedImage(reason: String)
    /// The bytes are malformed: bad CRC, bad marker, a decoder warning.
    case corruptImage(reason: String)
    /// A recognised image format that this module does not decode (gif, bmp, webp, tiff).
    case unsupportedFormat(String)
    /// The bytes match no image signature known here.
    case unrecognizedImage
    /// The header declares more pixels than `ImageLimits` allow; nothing was allocated.
    case imageTooLarge(width: Int, height: Int, limit: Int)
    /// An `RGBImage` or an encoder argument that cannot be encoded (wrong pixel count, bad quality).
    case invalidImage(reason: String)
    /// The decoder or encoder could not get memory.
    case outOfMemory
    /// Audio bytes that cannot be read (not WAV, truncated, an unsupported sample format).
    case invalidAudio(reason: String)

    /// An entry that would escape the extraction root or is not plain data.
    case unsafeArchiveEntry(archive: String, entry: String, reason: String)
    /// An encrypted entry: we never take passwords.
    case encryptedArchiveEntry(archive: String, entry: String)
    /// A size, count or ratio limit from `ArchiveLimits` was hit (`entry` is nil for archive-wide counts).
    case archiveLimitExceeded(archive: String, entry: String?, limit: ArchiveLimit)
    /// The file is missing, not an archive, truncated or corrupt.
    case archiveUnreadable(archive: String, reason: String)
    /// Writing an archive failed (`entry` is nil for the archive as a whole); nothing was left at the target path.
    case archiveWriteFailed(archive: String, entry: String?, reason: String)

    /// Another error, located: which file or sample URI it came from.
    indirect case inSource(source: String, error: MediaError)

    /// Attaches the file or URI the bytes came from, so the message names it.
    public func located(at source: String) -> MediaError {
        if case .inSource = self { return self }
        return .inSource(source: source, error: self)
    }

    /// The error without any `inSource` wrapping, for matching.
    public var underlying: MediaError {
        if case .inSource(_, let error) = self { return error.underlying }
        return self
    }

    public var description: String {
        switch self {
        case .truncatedImage(let reason):
            return "The image data ends early (\(reason)): the file is incomplete; download or export it again, or drop it."
        case .corruptImage(let reason):
            return "The image data is corrupt (\(reason)): export it again from the original, or drop it."
        case .unsupportedFormat(let format):
            return "Images in \(format) format are not decoded here: convert them to PNG or JPEG first."
        case .unrecognizedImage:
            return "The bytes are not a PNG, JPEG, GIF, BMP, WebP or TIFF image: check that the file really is an image."
        case .imageTooLarge(let width, let height, let limit):
            let over = width > limit || height > limit ? "a side longer than \(limit) pixels" : "more than \(limit) pixels"
            return "The image is \(width)×\(height), \(over): downscale it, or raise ImageLimits if it is trusted."
        case .invalidImage(let reason):
            return "The image cannot be encoded: \(reason)."
        case .outOfMemory:
            return "Out of memory while decoding or encoding an image: lower ImageLimits or free memory."
        case .invalidAudio(let reason):
            return "The audio cannot be read: \(reason)."
        case .unsafeArchiveEntry(let archive, let entry, let reason):
            return "Archive \(archive) holds an unsafe entry '\(entry)' (\(reason)); nothing was extracted from it: repack the archive without such entries."
        case .encryptedArchiveEntry(let archive, let entry):
            return "Archive \(archive) holds an encrypted entry '\(entry)': repack it without a password."
        case .archiveLimitExceeded(let archive, let entry, let limit):
            let at = entry.map { " at entry '\($0)'" } ?? ""
            return "Archive \(archive) exceeds \(limit)\(at): split the archive, or raise ArchiveLimits.\(limit.settingName) if the archive is trusted."
        case .archiveUnreadable(let archive, let reason):
            return "Archive \(archive) cannot be read (\(reason)): check that it is a complete zip or tar file."
        case .archiveWriteFailed(let archive, let entry, let reason):
            let at = entry.map { " at entry '\($0)'" } ?? ""
            return "Cannot write archive \(archive)\(at): \(reason)."
        case .inSource(let source, let error):
            return "\(source): \(error.description)"
        }
    }
}

/// Which `ArchiveLimits` setting an archive went over, with its value.
public enum ArchiveLimit: Equatable, Sendable, CustomStringConvertible {
    case entries(max: Int)
    case entryBytes(max: Int)
    case totalBytes(max: Int)
    case compressionRatio(max: Double)

    /// The `ArchiveLimits` property to raise.
    public var settingName: String {
        switch self {
        case .entries: return "maxEntries"
        case .entryBytes: return "maxEntryBytes"
        case .totalBytes: return "maxTotalBytes"
        case .compressionRatio: return "maxCompressionRatio"
        }
    }

    public var description: String {
        switch self {
        case .entries(let max): return "the limit of \(max) entries"
        case .entryBytes(let max): return "the limit of \(max) bytes for one entry"
        case .totalBytes(let max): return "the limit of \(max) bytes in total"
        case .compressionRatio(let max): return "the compression ratio limit of \(max)"
        }
    }
}
