import Foundation
import GASCore
import GASMedia
import GASSpec

/// A delivery that passed the per-file checks (before duplicate checks).
public struct VerifiedMedia: Sendable, Equatable {
    public var format: String
    public var width: Int?
    public var height: Int?
    public var observedTier: ResolutionTier?
    /// 64-bit pHash (images only).
    public var perceptualHash: UInt64?
}

/// Per-file checks of a generator delivery (gas-subnet.md §3.4 steps 1 and 5, plus size limits):
///
/// - images: PNG or JPEG by magic bytes, decoded with `ImageCodec` (corrupt → rejected), shorter
///   side at least `min_side`, at most `max_image_bytes`; observed tier from §3.6; pHash for duplicates;
///   with `require_tier`, an image below the requested tier is rejected (GAS stores it and lowers the
///   reward through the effective tier — the default here too).
/// - videos: MP4 (ISO BMFF `ftyp` box) by magic bytes and at most `max_video_bytes`. There is no video
///   decoder in this build, so a video is not decoded, has no observed tier (the reward treats it as
///   tier unknown: multiplier 1) and is checked for exact (sha256) duplicates only.
public enum DeliveryVerifier {
    public static func check(_ bytes: [UInt8], modality: Modality, requested: ResolutionTier?, checks: DeliveryChecks,
                             limits: ImageLimits = .default) -> Result<VerifiedMedia, DeliveryRejection> {
        guard !bytes.isEmpty else { return .failure(.init("empty body")) }
        switch modality {
        case .image:
            guard bytes.count <= checks.maxImageBytes else {
                return .failure(.init("image of \(bytes.count) bytes is above max_image_bytes \(checks.maxImageBytes)", status: 413))
            }
            let format: String
            if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { format = "png" }
            else if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { format = "jpg" }
            else { return .failure(.init("corrupted or unreadable media: not a PNG or JPEG image (first bytes \(Hex.encode(bytes.prefix(8))))")) }
            let image: RGBImage
            do { image = try ImageCodec.decode(bytes, limits: limits) } catch {
                return .failure(.init("corrupted or unreadable media: \(error)"))
            }
            let side = min(image.width, image.height)
            if side < checks.minSide {
                return .failure(.init("undersized image: \(image.width)x\(image.height), shorter side \(side) px is below min_side \(checks.minSide)"))
            }
            let observed = ResolutionTier.observedImage(width: image.width, height: image.height)
            if checks.requireTier, let requested, let observed, observed.rank < requested.rank {
                return .failure(.init("resolution tier \(observed.rawValue) (\(image.width)x\(image.height)) is below the requested \(requested.rawValue)"))
            }
            return .success(VerifiedMedia(format: format, width: image.width, height: image.height, observedTier: observed,
                                          perceptualHash: PerceptualHash.phash(image)))
        case .video:
            guard bytes.count <= checks.maxVideoBytes else {
                return .failure(.init("video of \(bytes.count) bytes is above max_video_bytes \(checks.maxVideoBytes)", status: 413))
            }
            guard MediaSniffer.isMP4(bytes) else { return .failure(.init("corrupted or unreadable media: not an MP4 video (no ftyp box)")) }
            return .success(VerifiedMedia(format: "mp4", width: nil, height: nil, observedTier: nil, perceptualHash: nil))
        case .audio:
            return .failure(.init("audio has no generator track"))
        }
    }
}

public struct DeliveryRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var status: Int
    public init(_ reason: String, status: Int = 400) {
        self.reason = reason
        self.status = status
    }
    public var description: String { reason }
}

/// Stored media to compare new deliveries with: same prompt within 8 bits, anything within 4
/// (gas-subnet.md §3.4 step 2), exact sha256 matches always. Seeded with the most recent 1000
/// stored media of the generator store, as GAS compares with its most recent 1000.
public struct DuplicateIndex: Sendable {
    struct Entry: Sendable { var promptID: String; var hash: UInt64?; var sha256: String }
    private var entries: [Entry] = []
    private var shas: Set<String> = []

    public init(_ seed: [(promptID: String, hash: String?, sha256: String)] = []) {
        for s in seed { add(promptID: s.promptID, hash: s.hash.flatMap(PerceptualHash.parse(hex:)), sha256: s.sha256) }
    }

    public mutating func add(promptID: String, hash: UInt64?, sha256: String) {
        entries.append(Entry(promptID: promptID, hash: hash, sha256: sha256))
        shas.insert(sha256)
    }

    /// The reason a delivery duplicates stored media, or nil.
    public func duplicate(promptID: String, hash: UInt64?, sha256: String, checks: DeliveryChecks) -> String? {
        if shas.contains(sha256) { return "global duplicate content detected (byte-identical to stored media)" }
        guard let hash else { return nil }
        var bestSame = Int.max, bestAll = Int.max
        for e in entries {
            guard let h = e.hash else { continue }
            let d = PerceptualHash.hamming(h, hash)
            if e.promptID == promptID { bestSame = min(bestSame, d) }
            bestAll = min(bestAll, d)
        }
        if bestSame <= checks.samePromptHamming {
            return "duplicate content detected (pHash Hamming \(bestSame) ≤ \(checks.samePromptHamming) to media for the same prompt)"
        }
        if bestAll <= checks.globalHamming {
            return "global duplicate content detected (pHash Hamming \(bestAll) ≤ \(checks.globalHamming) to stored media)"
        }
        return nil
    }
}
