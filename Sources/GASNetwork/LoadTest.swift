import Crypto
import Foundation
import GASCore
import GASData
import GASMedia
import GASSpec
import GASStore
import Hummingbird
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// `gascli generator load`: mixed hostile traffic against a real server on loopback, bounded in
/// requests and time, with an account of every request.
///
/// Targets: the generator server (`POST /gen_image`, deliveries to a counting webhook) or the
/// validator's webhook receiver (`POST /generative_callback`, the collector's own handler and
/// store). The mix: valid signed requests, bad signatures, replays (the exact bytes of an
/// answered valid request), oversized bodies, and slow clients that send one header byte at a time.
/// Clients are plain blocking sockets on their own threads (one request per connection), so the
/// numbers include connection setup and nothing hides in a client library's pool.
public enum LoadTest {
    public enum Target: String, Sendable, CaseIterable {
        case generator, webhook
    }

    public enum Kind: String, Sendable, CaseIterable {
        case valid, badSignature = "bad-signature", replay, oversized
    }

    public struct Options: Sendable {
        public var target: Target
        public var requests: Int
        public var concurrency: Int
        public var slowClients: Int
        public var maxSeconds: Double
        /// Header deadline of the server: slow clients must be cut off within it (plus slack).
        public var headerTimeoutSeconds: Double
        public var workDirectory: String
        public init(target: Target, requests: Int = 2000, concurrency: Int = 16, slowClients: Int = 8, maxSeconds: Double = 60,
                    headerTimeoutSeconds: Double = 2, workDirectory: String) {
            self.target = target
            self.requests = requests
            self.concurrency = concurrency
            self.slowClients = slowClients
            self.maxSeconds = maxSeconds
            self.headerTimeoutSeconds = headerTimeoutSeconds
            self.workDirectory = workDirectory
        }
    }

    public struct KindResult: Sendable {
        public var sent = 0
        public var expectedStatus = 0
        /// Status → count; 0 = no HTTP answer (connection error).
        public var statuses: [Int: Int] = [:]
        public var wrong: Int { sent - (statuses[expectedStatus] ?? 0) }
    }

    public struct Report: Sendable {
        public var target: Target
        public var seconds: Double
        public var requests: Int
        public var requestsPerSecond: Double
        public var p50Ms: Double
        public var p99Ms: Double
        public var maxMs: Double
        public var byKind: [Kind: KindResult]
        /// Valid requests the server answered as accepted (202 generator, 200 webhook).
        public var validAccepted: Int
        /// Accepted valid requests whose effect is visible: deliveries received (generator) or
        /// challenges stored (webhook).
        public var validCompleted: Int
        public var slowClients: Int
        public var slowClientsCutOff: Int
        public var slowClientLongestSeconds: Double
        /// VmHWM of this process, which runs both the server and the load generator (with its
        /// pre-rendered request bodies: about 12 KiB per valid webhook request).
        public var peakRSSKiB: Int?

        public var validLost: Int { (byKind[.valid]?.sent ?? 0) - validCompleted }
        public var allRight: Bool {
            validLost == 0 && byKind.values.allSatisfy { $0.wrong == 0 } && slowClientsCutOff == slowClients
        }

        public var text: String {
            var lines: [String] = []
            lines.append("load on the \(target == .generator ? "generator server (POST /gen_image)" : "validator webhook (POST /generative_callback)"): \(requests) requests in \(String(format: "%.2f", seconds)) s")
            lines.append(String(format: "  %.0f requests/s sustained, latency p50 %.2f ms, p99 %.2f ms, max %.2f ms", requestsPerSecond, p50Ms, p99Ms, maxMs))
            for kind in Kind.allCases {
                guard let k = byKind[kind] else { continue }
                let statuses = k.statuses.sorted { $0.key < $1.key }.map { "\($0.key == 0 ? "no answer" : String($0.key)): \($0.value)" }.joined(separator: ", ")
                lines.append("  \(kind.rawValue): \(k.sent) sent, expected \(k.expectedStatus), got {\(statuses)}\(k.wrong == 0 ? "" : " — \(k.wrong) WRONG")")
            }
            lines.append("  valid: \(validAccepted) accepted, \(validCompleted) \(target == .generator ? "delivered to the webhook" : "stored"), \(validLost) lost")
            lines.append("  slow clients: \(slowClientsCutOff) of \(slowClients) cut off by the server, the longest after \(String(format: "%.1f", slowClientLongestSeconds)) s")
            if let rss = peakRSSKiB { lines.append(String(format: "  peak RSS (VmHWM, server and load generator in one process) %.1f MiB", Double(rss) / 1024)) }
            lines.append(allRight ? "  every request accounted for: nothing valid lost, every bad one refused with its status" : "  SOME REQUESTS WERE NOT HANDLED AS EXPECTED")
            return lines.joined(separator: "\n")
        }
    }

    /// The kind of request number `i`: 6 of every 10 valid, then bad signature, replay, oversized.
    static func kind(_ i: Int) -> Kind {
        switch i % 10 {
        case 6, 7: return .badSignature
        case 8: return .replay
        case 9: return .oversized
        default: return .valid
        }
    }

    public static func run(_ options: Options, logger: Logger = Logger(label: "gascli.load")) async throws -> Report {
        var logger = logger
        logger.logLevel = .error
        try FileManager.default.createDirectory(atPath: options.workDirectory, withIntermediateDirectories: true)
        let validCount = (0..<options.requests).filter { kind($0) == .valid }.count
        let setup: Setup
        switch options.target {
        case .generator: setup = try await generatorSetup(options, validCount: validCount, logger: logger)
        case .webhook: setup = try await webhookSetup(options, validCount: validCount, logger: logger)
        }

        let work = Work(requests: options.requests, maker: setup.maker)
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = Date().addingTimeInterval(options.maxSeconds)
        let slow = SlowClients(count: options.slowClients, port: setup.port, path: setup.path, limitSeconds: options.headerTimeoutSeconds * 3 + 5)
        slow.start()
        let finished = await withCheckedContinuation { (done: CheckedContinuation<[Sample], Never>) in
            let group = DispatchGroup()
            let collected = SampleBox()
            for _ in 0..<max(1, options.concurrency) {
                group.enter()
                let t = Thread {
                    var local: [Sample] = []
                    while Date() < deadline, let (i, kind, request) = work.next() {
                        let t0 = DispatchTime.now().uptimeNanoseconds
                        let status = RawHTTP.exchange(port: setup.port, request: request)
                        let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
                        if kind == .valid && status == setup.validStatus { work.answered(i, request) }
                        local.append(Sample(kind: kind, status: status, ms: ms))
                    }
                    collected.add(local)
                    group.leave()
                }
                t.stackSize = 1 << 20
                t.start()
            }
            group.notify(queue: .global()) { done.resume(returning: collected.all) }
        }
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let slowResult = slow.wait()

        let validAccepted = finished.filter { $0.kind == .valid && $0.status == setup.validStatus }.count
        let completed = await setup.completed(validAccepted)
        await setup.stop()

        var byKind: [Kind: KindResult] = [:]
        for kind in Kind.allCases {
            var r = KindResult()
            r.expectedStatus = kind == .valid ? setup.validStatus : kind == .badSignature ? 401 : kind == .replay ? 409 : 413
            for s in finished where s.kind == kind {
                r.sent += 1
                r.statuses[s.status, default: 0] += 1
            }
            byKind[kind] = r
        }
        let latencies = finished.map(\.ms).sorted()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, max(0, Int((p * Double(latencies.count)).rounded(.up)) - 1))]
        }
        return Report(target: options.target, seconds: seconds, requests: finished.count,
                      requestsPerSecond: seconds > 0 ? Double(finished.count) / seconds : 0,
                      p50Ms: percentile(0.5), p99Ms: percentile(0.99), maxMs: latencies.last ?? 0, byKind: byKind,
                      validAccepted: validAccepted, validCompleted: completed, slowClients: options.slowClients,
                      slowClientsCutOff: slowResult.cutOff, slowClientLongestSeconds: slowResult.longest,
                      peakRSSKiB: SigningBenchmark.peakRSSKiB())
    }

    // MARK: Setups

    struct Sample: Sendable {
        var kind: Kind
        var status: Int
        var ms: Double
    }

    /// A server under test and how to make its requests.
    struct Setup: Sendable {
        var port: Int
        var path: String
        var validStatus: Int
        /// Request bytes for number `i` of `kind` (valid requests get a fresh signature).
        var maker: @Sendable (Int, Kind) -> [UInt8]
        /// Waits (bounded) until `accepted` valid requests took effect; returns how many did.
        var completed: @Sendable (Int) async -> Int
        var stop: @Sendable () async -> Void
    }

    static func generatorSetup(_ options: Options, validCount: Int, logger: Logger) async throws -> Setup {
        let validator = Ed25519Signer(privateKey: Curve25519.Signing.PrivateKey())
        let generator = Ed25519Signer(privateKey: Curve25519.Signing.PrivateKey())
        // The validator's side: a webhook that counts completed deliveries by task id.
        let received = DeliveryCount()
        let router = Router(context: BasicRequestContext.self)
        router.post("/generative_callback") { request, _ -> Response in
            let body = try? await HTTPHelpers.collect(request, limit: 1 << 20)
            if let task = HTTPHelpers.header(request, "task-id"), HTTPHelpers.header(request, "task-status") == "completed", body?.isEmpty == false {
                await received.add(task)
            }
            return HTTPHelpers.json(.ok, ["status": "binary content received"])
        }
        let webhook = try await RunningServer.start(router: router, host: "127.0.0.1", port: 0, logger: logger)

        var config = GeneratorServerConfig()
        config.host = "127.0.0.1"
        config.port = 0
        config.validators = [validator.publicKeyHex]
        config.maxPendingTasks = max(64, validCount)
        config.headerTimeoutSeconds = options.headerTimeoutSeconds
        config.bodyTimeoutSeconds = options.headerTimeoutSeconds * 2
        // Tiny images: the load is on the HTTP path, not on rendering.
        let backend = BuiltinBackend(sizes: [.image1K: 64, .image2K: 64, .image4K: 64])
        let server = try await GeneratorServer.start(config: config, signer: generator, backend: backend, logger: logger)
        let maxBody = config.maxBodyBytes
        let hook = webhook.baseURL + "/generative_callback"
        let path = "/gen_image"
        let maker: @Sendable (Int, Kind) -> [UInt8] = { i, kind in
            let prompt = "load test prompt \(i)"
            var body = [UInt8]((try? JSONSerialization.data(withJSONObject: ["prompt": prompt, "parameters": ["resolution": "1K", "seed": i]],
                                                             options: [.sortedKeys])) ?? Data())
            if kind == .oversized { body = [UInt8](repeating: 0x20, count: maxBody + 1) }
            var headers = (try? Epistula.headers(body: body, signer: validator, signedFor: generator.identity)) ?? []
            if kind == .badSignature { headers = corruptSignature(headers) }
            headers += [("Content-Type", "application/json"), ("X-Webhook-URL", hook)]
            return RawHTTP.request(path: path, headers: headers, body: body)
        }
        return Setup(port: server.port, path: path, validStatus: 202, maker: maker,
                     completed: { accepted in
                         let until = Date().addingTimeInterval(max(30, Double(accepted) / 20))
                         while await received.count < accepted && Date() < until { try? await Task.sleep(nanoseconds: 50_000_000) }
                         return await received.count
                     },
                     stop: {
                         await server.stop(drainSeconds: 5)
                         await webhook.stop()
                     })
    }

    static func webhookSetup(_ options: Options, validCount: Int, logger: Logger) async throws -> Setup {
        let validator = Ed25519Signer(privateKey: Curve25519.Signing.PrivateKey())
        let generator = Ed25519Signer(privateKey: Curve25519.Signing.PrivateKey())
        let store = try RunLedger(path: (options.workDirectory as NSString).appendingPathComponent("load.sqlite"))
        let media = MediaStore(root: options.workDirectory)
        let collectionID = "load-\(Timestamp.compact(Date()))"
        try store.createCollection(CollectionRecord(id: collectionID, roundName: "load", sequence: 0, seed: 1, validator: validator.identity,
                                                    webhookURL: "", startedAt: Timestamp.now()))
        let maxBody = 256 << 10
        let checks = DeliveryChecks(minSide: 32, maxImageBytes: maxBody)
        let state = CollectionState(collectionID: collectionID, store: store, media: media, checks: checks, duplicates: DuplicateIndex())
        let verifier = EpistulaVerifier(ownIdentity: validator.identity, verifier: try Ed25519KeyRing(publicKeysHex: [generator.publicKeyHex]))
        let identities = ["gen": generator.identity]

        // One open challenge per valid request, each answered by a distinct noise image.
        var records: [ChallengeRecord] = []
        var images: [[UInt8]] = []
        for n in 0..<max(1, validCount) {
            records.append(ChallengeRecord(collectionID: collectionID, challengeID: "load/gen/image/\(n)", generator: "gen", hotkey: generator.identity,
                                           uid: nil, modality: .image, promptID: "p\(n)", prompt: "load \(n)", requestedTier: nil, sentAt: Timestamp.now()))
            var random = SplitMix64(seed: 0x10AD, label: "load-image-\(n)")
            let side = 64
            let pixels = (0..<(side * side * 3)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            images.append(try ImageCodec.encodePNG(RGBImage(width: side, height: side, pixels: pixels)))
        }
        await state.add(records)
        for (n, r) in records.enumerated() { await state.accepted(r, taskID: "task-\(n)", status: 202) }

        let router = Router(context: BasicRequestContext.self)
        router.post("/generative_callback") { request, _ -> Response in
            await Webhook.handle(request, state: state, verifier: verifier, identities: identities, maxBody: maxBody)
        }
        let server = try await RunningServer.start(
            router: router, host: "127.0.0.1", port: 0,
            timeouts: .init(header: options.headerTimeoutSeconds, body: options.headerTimeoutSeconds * 2, idle: 30), logger: logger)
        let path = "/generative_callback"
        let validIndex = ValidIndex()
        let imageList = images
        let maker: @Sendable (Int, Kind) -> [UInt8] = { i, kind in
            // Valid requests take the next challenge; bad ones aim at a challenge too (it must survive them).
            let n = kind == .valid ? validIndex.take() : i % imageList.count
            var body = imageList[n % imageList.count]
            if kind == .oversized { body = [UInt8](repeating: 0x89, count: maxBody + 1) }
            var headers = (try? Epistula.headers(body: body, signer: generator, signedFor: validator.identity)) ?? []
            if kind == .badSignature { headers = corruptSignature(headers) }
            headers += [("Content-Type", "image/png"), ("task-id", "task-\(n)"), ("task-status", "completed")]
            return RawHTTP.request(path: path, headers: headers, body: body)
        }
        return Setup(port: server.port, path: path, validStatus: 200, maker: maker,
                     completed: { _ in await state.snapshot().0.filter { $0.status == "stored" }.count },
                     stop: { await server.stop() })
    }

    static func corruptSignature(_ headers: [(String, String)]) -> [(String, String)] {
        headers.map { k, v in
            guard k == Epistula.signatureHeader, let last = v.last else { return (k, v) }
            return (k, String(v.dropLast()) + (last == "0" ? "1" : "0"))
        }
    }

    // MARK: Work distribution

    /// Hands out request numbers; a replay takes the bytes of the valid request answered most
    /// recently (and not replayed yet), so it is refused as a replay (409), not as stale (401).
    final class Work: @unchecked Sendable {
        private let lock = NSLock()
        private var nextIndex = 0
        private var answeredValid: [[UInt8]] = []
        let requests: Int
        let maker: @Sendable (Int, Kind) -> [UInt8]

        init(requests: Int, maker: @escaping @Sendable (Int, Kind) -> [UInt8]) {
            self.requests = requests
            self.maker = maker
        }

        func next() -> (Int, Kind, [UInt8])? {
            lock.lock()
            guard nextIndex < requests else { lock.unlock(); return nil }
            let i = nextIndex
            nextIndex += 1
            var kind = LoadTest.kind(i)
            var replay: [UInt8]?
            if kind == .replay {
                if let last = answeredValid.popLast() {
                    replay = last
                } else {
                    kind = .badSignature  // nothing answered yet to replay
                }
            }
            lock.unlock()
            return (i, kind, replay ?? maker(i, kind))
        }

        func answered(_ i: Int, _ request: [UInt8]) {
            lock.lock()
            answeredValid.append(request)
            if answeredValid.count > 64 { answeredValid.removeFirst() }
            lock.unlock()
        }
    }

    final class ValidIndex: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func take() -> Int { lock.withLock { defer { n += 1 }; return n } }
    }

    final class SampleBox: @unchecked Sendable {
        private let lock = NSLock()
        private var samples: [Sample] = []
        func add(_ more: [Sample]) { lock.withLock { samples += more } }
        var all: [Sample] { lock.withLock { samples } }
    }

    actor DeliveryCount {
        private var tasks: Set<String> = []
        func add(_ task: String) { tasks.insert(task) }
        var count: Int { tasks.count }
    }

    /// Slow-loris clients: each opens a connection and sends its request head one byte every
    /// 200 ms; the server must close the connection at its header deadline.
    final class SlowClients: @unchecked Sendable {
        let count: Int
        let port: Int
        let path: String
        let limitSeconds: Double
        private let group = DispatchGroup()
        private let lock = NSLock()
        private var cutOff = 0
        private var longest = 0.0

        init(count: Int, port: Int, path: String, limitSeconds: Double) {
            self.count = count
            self.port = port
            self.path = path
            self.limitSeconds = limitSeconds
        }

        func start() {
            for _ in 0..<count {
                group.enter()
                let t = Thread { [self] in
                    let began = Date()
                    let closed = RawHTTP.trickle(port: port, head: Array("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8) + [UInt8](repeating: 0x61, count: 4096),
                                                 interval: 0.2, limitSeconds: limitSeconds)
                    let held = Date().timeIntervalSince(began)
                    lock.withLock {
                        if closed { cutOff += 1 }
                        longest = max(longest, held)
                    }
                    group.leave()
                }
                t.stackSize = 256 << 10
                t.start()
            }
        }

        func wait() -> (cutOff: Int, longest: Double) {
            group.wait()
            return lock.withLock { (cutOff, longest) }
        }
    }
}

/// Minimal blocking HTTP/1.1 over loopback TCP for the load generator: one request per
/// connection (`Connection: close`), the status code of the answer, 0 when there is none.
enum RawHTTP {
    static func request(path: String, headers: [(String, String)], body: [UInt8]) -> [UInt8] {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    static func connect(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); return nil }
        return fd
    }

    /// Sends `request`, reads the answer to its end, returns its status code (0 if none).
    static func exchange(port: Int, request: [UInt8]) -> Int {
        guard let fd = connect(port: port) else { return 0 }
        defer { close(fd) }
        // Write the whole request; a server refusing early may stop reading (and close), which
        // shows up as a write error here: the answer may still be readable.
        request.withUnsafeBytes { buffer in
            var off = 0
            while off < buffer.count {
                let n = send(fd, buffer.baseAddress! + off, buffer.count - off, Int32(MSG_NOSIGNAL))
                if n < 0 { if errno == EINTR { continue }; break }
                off += n
            }
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while answer.count < 1 << 20 {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            answer += chunk[0..<n]
            if let status = completeStatus(answer) { return status }
        }
        return status(answer) ?? 0
    }

    /// The status once the head and the Content-Length body are complete.
    static func completeStatus(_ answer: [UInt8]) -> Int? {
        guard let end = headEnd(answer), let code = status(answer) else { return nil }
        let head = String(decoding: answer[0..<end], as: UTF8.self).lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
              let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) else { return nil }
        return answer.count >= end + 4 + length ? code : nil
    }

    static func headEnd(_ a: [UInt8]) -> Int? {
        guard a.count >= 4 else { return nil }
        for i in 0...(a.count - 4) where a[i] == 13 && a[i + 1] == 10 && a[i + 2] == 13 && a[i + 3] == 10 { return i }
        return nil
    }

    static func status(_ answer: [UInt8]) -> Int? {
        let line = String(decoding: answer.prefix(32), as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1.") else { return nil }
        return Int(parts[1])
    }

    /// Sends `head` one byte per `interval`; true when the server closed the connection (or
    /// answered) before `limitSeconds`.
    static func trickle(port: Int, head: [UInt8], interval: Double, limitSeconds: Double) -> Bool {
        guard let fd = connect(port: port) else { return false }
        defer { close(fd) }
        let until = Date().addingTimeInterval(limitSeconds)
        var i = 0
        while Date() < until {
            var byte = head[i % head.count]
            if send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) < 0 { return true }
            i += 1
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, Int32(interval * 1000)) > 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                _ = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                return true  // closed, or answered (a 408): cut off either way
            }
        }
        return false
    }
}
