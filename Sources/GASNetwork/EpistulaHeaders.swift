import Crypto
import Foundation

/// Epistula v2 request signing (gas-subnet.md §3.3, `gas/protocol/epistula.py`).
///
/// The signed message is `sha256_hex(body) + "." + uuid + "." + timestamp_ms + "." + signed_for`
/// (empty `signed_for` when absent). Headers: `Epistula-Version: 2`, `Epistula-Timestamp`,
/// `Epistula-Uuid`, `Epistula-Signed-By`, `Epistula-Signed-For`, `Epistula-Request-Signature`
/// (`0x` + hex). The secret-signature headers GAS also sends are never verified and are omitted.
public enum Epistula {
    public static let version = "2"
    public static let versionHeader = "Epistula-Version"
    public static let timestampHeader = "Epistula-Timestamp"
    public static let uuidHeader = "Epistula-Uuid"
    public static let signedByHeader = "Epistula-Signed-By"
    public static let signedForHeader = "Epistula-Signed-For"
    public static let signatureHeader = "Epistula-Request-Signature"

    /// ±15 s (GAS: `|now - timestamp| <= 15000 ms`).
    public static let toleranceMs: Int64 = 15_000

    public static func message(bodySHA256Hex: String, uuid: String, timestampMs: Int64, signedFor: String?) -> [UInt8] {
        Array("\(bodySHA256Hex).\(uuid).\(timestampMs).\(signedFor ?? "")".utf8)
    }

    public static func bodyHash(_ body: some DataProtocol) -> String {
        Hex.encode(SHA256.hash(data: body))
    }

    public static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// The headers for a request with this body, signed now with a fresh uuid.
    public static func headers(body: some DataProtocol, signer: any RequestSigner, signedFor: String?,
                               timestampMs: Int64 = Epistula.nowMs(), uuid: String = UUID().uuidString.lowercased()) throws -> [(String, String)] {
        let signature = try signer.sign(message(bodySHA256Hex: bodyHash(body), uuid: uuid, timestampMs: timestampMs, signedFor: signedFor))
        var h: [(String, String)] = [
            (versionHeader, version), (timestampHeader, String(timestampMs)), (uuidHeader, uuid),
            (signedByHeader, signer.identity), (signatureHeader, "0x" + Hex.encode(signature)),
        ]
        if let signedFor { h.append((signedForHeader, signedFor)) }
        return h
    }
}

/// Why a signed request was refused, with the HTTP status it is answered with.
public enum EpistulaRejection: Error, Sendable, Equatable, CustomStringConvertible {
    case missingHeader(String)
    case unsupportedVersion(String)
    case malformed(String)
    case stale(deltaMs: Int64)
    case badSignature
    case unknownSigner(String)
    case wrongSignedFor(expected: String, got: String?)
    case replayed(String)
    case replayCacheFull

    /// 401 unauthenticated (missing, stale or bad signature), 403 not allowed (unknown signer,
    /// meant for someone else), 409 replayed uuid, 400 unsupported version, 503 replay cache full.
    public var httpStatus: Int {
        switch self {
        case .missingHeader, .malformed, .stale, .badSignature: 401
        case .unsupportedVersion: 400
        case .unknownSigner, .wrongSignedFor: 403
        case .replayed: 409
        case .replayCacheFull: 503
        }
    }

    public var description: String {
        switch self {
        case let .missingHeader(h): "missing header \(h)"
        case let .unsupportedVersion(v): "unsupported Epistula version '\(v)' (expected 2)"
        case let .malformed(what): "malformed \(what)"
        case let .stale(delta): delta > 0 ? "timestamp too stale (\(delta) ms old; tolerance 15000 ms)" : "timestamp in the future (\(-delta) ms ahead; tolerance 15000 ms)"
        case .badSignature: "bad signature"
        case let .unknownSigner(s): "unknown signer \(s)"
        case let .wrongSignedFor(expected, got): "signed for \(got.map { "'\($0)'" } ?? "nobody") instead of '\(expected)'"
        case let .replayed(u): "replayed request (uuid \(u) already seen)"
        case .replayCacheFull: "too many signed requests in the tolerance window; try again shortly"
        }
    }
}

/// Remembers request uuids for twice the timestamp tolerance (after that the timestamp check
/// rejects a replay anyway), holding at most `capacity` entries. When full of unexpired uuids it
/// refuses new requests rather than forgetting one that could then be replayed.
public final class ReplayCache: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [String: Int64] = [:]
    private var order: [(String, Int64)] = []
    private var head = 0
    public let capacity: Int
    public let retentionMs: Int64

    public init(capacity: Int = 100_000, retentionMs: Int64 = 2 * Epistula.toleranceMs) {
        self.capacity = capacity
        self.retentionMs = retentionMs
    }

    public var count: Int { lock.withLock { seen.count } }

    /// Records `key` seen at `nowMs`; false when it was already seen (a replay).
    public func insert(_ key: String, nowMs: Int64) throws(EpistulaRejection) -> Bool {
        let outcome: Bool? = lock.withLock { () -> Bool? in
            // Expire from the front of the insertion log.
            while head < order.count, order[head].1 + retentionMs < nowMs {
                if seen[order[head].0] == order[head].1 { seen[order[head].0] = nil }
                head += 1
            }
            if head > 4096 && head * 2 > order.count { order.removeFirst(head); head = 0 }
            if seen[key] != nil { return false }
            guard seen.count < capacity else { return nil }
            seen[key] = nowMs
            order.append((key, nowMs))
            return true
        }
        guard let outcome else { throw .replayCacheFull }
        return outcome
    }
}

/// Checks Epistula headers of incoming requests: version, addressee, known signer, timestamp
/// within ±15 s, signature over the body, and uuid not seen before (only after the signature
/// holds, so unsigned requests cannot fill the replay cache).
public struct EpistulaVerifier: Sendable {
    public let ownIdentity: String
    public let verifier: any SignatureVerifier
    public let replay: ReplayCache
    public let toleranceMs: Int64

    public init(ownIdentity: String, verifier: any SignatureVerifier, replay: ReplayCache = ReplayCache(),
                toleranceMs: Int64 = Epistula.toleranceMs) {
        self.ownIdentity = ownIdentity
        self.verifier = verifier
        self.replay = replay
        self.toleranceMs = toleranceMs
    }

    /// `verify` as a Result (for handlers in closures, where typed throws are not inferred).
    public func check(body: some DataProtocol, header: (String) -> String?, nowMs: Int64 = Epistula.nowMs()) -> Result<String, EpistulaRejection> {
        do throws(EpistulaRejection) { return .success(try verify(body: body, header: header, nowMs: nowMs)) } catch { return .failure(error) }
    }

    /// Returns the signer's identity. `header` looks a header up case-insensitively.
    public func verify(body: some DataProtocol, header: (String) -> String?, nowMs: Int64 = Epistula.nowMs()) throws(EpistulaRejection) -> String {
        func need(_ name: String) throws(EpistulaRejection) -> String {
            guard let v = header(name), !v.isEmpty else { throw .missingHeader(name) }
            return v
        }
        let version = try need(Epistula.versionHeader)
        guard version == Epistula.version else { throw .unsupportedVersion(version) }
        let timestampText = try need(Epistula.timestampHeader)
        let uuid = try need(Epistula.uuidHeader)
        let signedBy = try need(Epistula.signedByHeader)
        let signatureText = try need(Epistula.signatureHeader)
        let signedFor = header(Epistula.signedForHeader)
        guard signedFor == ownIdentity else { throw .wrongSignedFor(expected: ownIdentity, got: signedFor) }
        guard verifier.knows(signedBy) else { throw .unknownSigner(signedBy) }
        guard let timestamp = Int64(timestampText) else { throw .malformed("timestamp '\(timestampText.prefix(32))'") }
        let delta = nowMs - timestamp
        guard abs(delta) <= toleranceMs else { throw .stale(deltaMs: delta) }
        guard uuid.utf8.count <= 64 else { throw .malformed("uuid (longer than 64 bytes)") }
        guard let signature = Hex.decode(signatureText), signature.count == 64 else { throw .malformed("signature (expected 0x + 128 hex)") }
        let message = Epistula.message(bodySHA256Hex: Epistula.bodyHash(body), uuid: uuid, timestampMs: timestamp, signedFor: signedFor)
        guard verifier.isValid(signature: signature, message: message, signer: signedBy) else { throw .badSignature }
        guard try replay.insert(signedBy + "|" + uuid, nowMs: nowMs) else { throw .replayed(uuid) }
        return signedBy
    }
}
