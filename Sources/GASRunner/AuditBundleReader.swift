import GASMedia

/// A bundle's members, read into memory and nowhere else. Why in memory: the bundle is untrusted,
/// so none of its paths ever reach the filesystem. `ArchiveReader` has already refused `..`,
/// absolute paths, links, devices and anything over the size limits; here the layout is checked:
/// one run folder, the known member names, and media only under `media/ab/<sha256>.<ext>`.
struct BundleContents {
    struct MediaDigest {
        var sha256: String
        var bytes: Int
    }

    let bundle: String
    /// The top folder: the run id.
    let runID: String
    let files: [AuditBundle.Member: [UInt8]]
    /// Media are hashed as they stream past and never kept: path below the run folder → digest.
    let media: [String: MediaDigest]

    static func read(_ bundle: String, limits: ArchiveLimits) throws(AuditError) -> BundleContents {
        let reader: ArchiveReader
        do {
            reader = try ArchiveReader(path: bundle, limits: limits)
        } catch {
            throw .unreadableBundle(bundle: bundle, reason: error.description)
        }
        var top: String?
        var files: [AuditBundle.Member: [UInt8]] = [:]
        var media: [String: MediaDigest] = [:]
        func layout(_ member: String, _ reason: String) -> AuditError {
            .unexpectedLayout(bundle: bundle, member: member, reason: reason)
        }
        do {
            try reader.forEachEntry { entry, readData in
                let parts = entry.path.split(separator: "/", maxSplits: 1).map(String.init)
                let folder = parts.first ?? ""
                let inner = parts.count > 1 ? parts[1] : ""
                if let top, top != folder {
                    throw layout(entry.path, "entries under both '\(top)/' and '\(folder)/'; a bundle holds exactly one run folder")
                }
                top = folder
                if entry.kind == .directory {
                    guard inner.isEmpty || inner == "media" || isMediaFolder(inner) else {
                        throw layout(entry.path, "unexpected folder")
                    }
                    return
                }
                if inner.isEmpty {
                    throw layout(entry.path, "a file outside the run folder")
                }
                if let member = AuditBundle.Member(rawValue: inner) {
                    guard files[member] == nil else { throw layout(entry.path, "the member appears twice") }
                    files[member] = try readData()
                } else if AuditBundle.mediaPath(inner) != nil {
                    guard media[inner] == nil else { throw layout(entry.path, "the member appears twice") }
                    let bytes = try readData()
                    media[inner] = MediaDigest(sha256: AuditBundle.sha256Hex(bytes), bytes: bytes.count)
                } else {
                    throw layout(entry.path, "unexpected member")
                }
            }
        } catch let error as AuditError {
            throw error
        } catch let error as MediaError {
            throw .unreadableBundle(bundle: bundle, reason: error.description)
        } catch {
            throw .unreadableBundle(bundle: bundle, reason: "\(error)")
        }
        guard let top else {
            throw .unexpectedLayout(bundle: bundle, member: nil, reason: "the archive holds no files")
        }
        return BundleContents(bundle: bundle, runID: top, files: files, media: media)
    }

    /// `media/ab` where `ab` is two lowercase hex digits.
    private static func isMediaFolder(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2 && parts[0] == "media" && parts[1].count == 2
            && parts[1].allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }
}
