import AsyncHTTPClient
import Crypto
import Foundation
import GASCore
import GASData
import GASMedia
import GASSpec
import NIOCore
import NIOHTTP1
@testable import GASNetwork

/// Small helpers for talking to real servers on 127.0.0.1.
enum Loopback {
    static let client = HTTPClient(eventLoopGroupProvider: .singleton)

    struct Reply { var status: Int; var body: String }

    static func send(_ url: String, method: HTTPMethod = .POST, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), body: String(buffer: bytes))
    }

    /// A free TCP port on 127.0.0.1 (bound, read, released).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// A raw TCP connection (for slow-loris clients).
    final class RawConnection: @unchecked Sendable {
        let fd: Int32
        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = UInt16(port).bigEndian
            let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            if r != 0 { throw NetworkError.server("connect failed: \(errno)") }
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        /// Sends bytes; false when the peer has closed the connection.
        func send(_ bytes: [UInt8]) -> Bool {
            bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
        }
        /// True when the peer closed (read returns 0 or a reset).
        func peerClosed() -> Bool {
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = recv(fd, &buffer, buffer.count, 0)
            return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        }
        deinit { close(fd) }
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
