import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GASCore
import GASData
import GASMedia
@testable import GASNetwork

enum Loopback {
    /// A plain GET on loopback.
    static func get(_ url: String) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url)!)
        return String(decoding: data, as: UTF8.self)
    }
}

/// A generator whose deliveries go wrong on purpose, in rotation by arrival order:
/// 0 a valid unique image, 1 a copy of its first image (duplicate), 2 garbage bytes,
/// 3 an undersized 16×16 PNG, 4 a valid image delivered with a bad signature, 5 a reported failure.
final class MisbehavingBackend: GenerationBackend, @unchecked Sendable {
    let lock = NSLock()
    var counter = 0
    var first: [UInt8]?
    let badlySigned: BadSignatureSet
    let side: Int
    var name: String { "misbehaving" }

    init(badlySigned: BadSignatureSet, side: Int = 256) {
        self.badlySigned = badlySigned
        self.side = side
    }

    func generate(_ request: GenerationRequest) async -> GenerationResult {
        let k: Int = lock.withLock { counter += 1; return counter - 1 }
        func image(_ seed: UInt64, _ s: Int) -> [UInt8] {
            (try? ImageCodec.encodePNG(ProceduralImages.generate(seed: seed ^ 0xBAD, width: s, height: s))) ?? []
        }
        switch k % 6 {
        case 0:
            let bytes = image(request.seed &+ UInt64(k), side)
            lock.withLock { if first == nil { first = bytes } }
            return .media(bytes)
        case 1:
            let copy: [UInt8]? = lock.withLock { first }
            return .media(copy ?? image(request.seed &+ 99, side))
        case 2: return .media([UInt8]("this is not an image, just garbage bytes \(k)".utf8) + [0, 1, 2, 3])
        case 3: return .media(image(request.seed, 16))
        case 4:
            let bytes = image(request.seed &+ 4242 &+ UInt64(k), side)
            badlySigned.add(Epistula.bodyHash(bytes))
            return .media(bytes)
        default: return .failure("out of GPU memory (on purpose)")
        }
    }
}

final class BadSignatureSet: @unchecked Sendable {
    let lock = NSLock()
    var hashes: Set<String> = []
    func add(_ h: String) { lock.withLock { _ = hashes.insert(h) } }
    func contains(_ h: String) -> Bool { lock.withLock { hashes.contains(h) } }
}

/// Signs correctly except for bodies registered as "sign badly": those get a flipped signature.
struct FaultySigner: RequestSigner {
    let inner: Ed25519Signer
    let bad: BadSignatureSet
    var identity: String { inner.identity }
    func sign(_ message: [UInt8]) throws -> [UInt8] {
        var signature = try inner.sign(message)
        let bodyHash = String(decoding: message.prefix { $0 != UInt8(ascii: ".") }, as: UTF8.self)
        if bad.contains(bodyHash) { signature[0] ^= 0xFF }
        return signature
    }
}
