// A misbehaving generator miner for the end-to-end tests, in its own process so that its work
// never waits for the test process's (small, shared) cooperative thread pool.
//
//   gas-test-generator --key FILE --validator-key FILE [--side N]
//
// Prints "listening on http://127.0.0.1:PORT" once serving; stops on SIGTERM.
import Foundation
import GASCore
import GASData
import GASMedia
import GASNetwork
import GASSpec
import Logging
import UnixSignals

/// A generator whose deliveries go wrong on purpose, in rotation by arrival order:
/// 0 and 1 the same valid image (one is a duplicate), 2 garbage bytes,
/// 3 an undersized 16×16 PNG, 4 a valid image delivered with a bad signature, 5 a reported failure.
final class MisbehavingBackend: GenerationBackend, @unchecked Sendable {
    let lock = NSLock()
    var counter = 0
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
        case 0, 1:
            // The same bytes twice, whatever order they are made in: one is stored, one is a duplicate.
            return .media(image(0xD0D0, side))
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

func argument(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

guard let keyPath = argument("--key"), let validatorPath = argument("--validator-key") else {
    FileHandle.standardError.write(Data("usage: gas-test-generator --key FILE --validator-key FILE [--side N]\n".utf8))
    exit(2)
}
let key = try KeyFile.load(path: keyPath).signer()
let validator = try KeyFile.load(path: validatorPath)
var config = GeneratorServerConfig()
config.port = 0
config.validators = [validator.publicKey]
config.deliveryRetries = 0
var logger = Logger(label: "gas-test-generator")
logger.logLevel = .critical
let badSet = BadSignatureSet()
let server = try await GeneratorServer.start(
    config: config, signer: key, backend: MisbehavingBackend(badlySigned: badSet, side: Int(argument("--side") ?? "") ?? 192),
    deliverySigner: FaultySigner(inner: key, bad: badSet), signals: [.sigterm, .sigint], logger: logger)
FileHandle.standardOutput.write(Data("listening on \(server.baseURL)\n".utf8))
try await server.wait(drainSeconds: 1)
