import AsyncHTTPClient
import Foundation
import GASCore
import GASSpec
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import UnixSignals

/// Counters and the most recent rejections of a server, shown by `GET /health`.
actor ServerStats {
    private(set) var counters: [String: Int] = [:]
    private(set) var recent: [String] = []

    func count(_ key: String) { counters[key, default: 0] += 1 }

    func reject(_ status: Int, _ reason: String, logger: Logger) {
        counters["rejected_\(status)", default: 0] += 1
        recent.append("\(status) \(reason)")
        if recent.count > 50 { recent.removeFirst(recent.count - 50) }
        logger.notice("rejected request", metadata: ["status": "\(status)", "reason": "\(reason)"])
    }

    func snapshot() -> ([String: Int], [String]) { (counters, recent) }
}

/// The generator miner's task queue: at most `maxPending` accepted tasks not yet delivered, at
/// most `maxConcurrent` generating at once.
actor TaskQueue {
    struct Job: Sendable {
        var request: GenerationRequest
        var webhookURL: String
        var validator: String
    }
    let maxPending: Int
    let maxConcurrent: Int
    private var queued: [Job] = []
    private var running = 0
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private let work: @Sendable (Job) async -> Void

    init(maxPending: Int, maxConcurrent: Int, work: @escaping @Sendable (Job) async -> Void) {
        self.maxPending = maxPending
        self.maxConcurrent = maxConcurrent
        self.work = work
    }

    var pending: Int { queued.count + running }

    func submit(_ job: Job) -> Bool {
        guard pending < maxPending else { return false }
        queued.append(job)
        startMore()
        return true
    }

    private func startMore() {
        while running < maxConcurrent, !queued.isEmpty {
            let job = queued.removeFirst()
            running += 1
            let work = self.work
            Task {
                await work(job)
                self.finished()
            }
        }
    }

    private func finished() {
        running -= 1
        startMore()
        if pending == 0 {
            for w in idleWaiters { w.resume() }
            idleWaiters = []
        }
    }

    func waitIdle() async {
        if pending == 0 { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }
}

/// `gascli generator start`: a generator miner over HTTP (gas-subnet.md §3.1–3.2).
///
/// `POST /gen_image`, `POST /gen_video`: Epistula-signed JSON `{"prompt", "parameters": {"resolution", "seed"}}`
/// with `X-Webhook-URL`; answered 202 `{"task_id", "status": "submitted", ...}`. The media is generated
/// in the background and POSTed, signed for the challenging validator, to the webhook URL with
/// `task-id` and `task-status: completed` headers; a failure is reported with `task-status: failed` and
/// a JSON body. `GET /health` (unsigned) reports counters; `GET /miner_info` (signed) says `generator`.
public final class GeneratorServer: Sendable {
    public let server: RunningServer
    public let identity: String
    let stats: ServerStats
    let queue: TaskQueue
    let client: HTTPClient

    public var baseURL: String { server.baseURL }
    public var port: Int { server.port }

    init(server: RunningServer, identity: String, stats: ServerStats, queue: TaskQueue, client: HTTPClient) {
        self.server = server
        self.identity = identity
        self.stats = stats
        self.queue = queue
        self.client = client
    }

    /// Starts serving. `deliverySigner` signs webhook deliveries (default: `signer`); tests pass a
    /// faulty one to produce bad signatures.
    public static func start(config: GeneratorServerConfig, signer: any RequestSigner, backend: any GenerationBackend,
                             deliverySigner: (any RequestSigner)? = nil, signals: [UnixSignal] = [],
                             logger: Logger = Logger(label: "gascli.generator")) async throws -> GeneratorServer {
        let keyRing = try Ed25519KeyRing(publicKeysHex: config.validators)
        let verifier = EpistulaVerifier(ownIdentity: signer.identity, verifier: keyRing)
        let stats = ServerStats()
        var clientConfig = HTTPClient.Configuration()
        clientConfig.timeout = .init(connect: .seconds(5), read: .milliseconds(Int64(config.deliveryTimeoutSeconds * 1000)))
        clientConfig.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfig)
        let outSigner = deliverySigner ?? signer
        let queue = TaskQueue(maxPending: config.maxPendingTasks, maxConcurrent: config.maxConcurrentTasks) { job in
            let result = await backend.generate(job.request)
            await Delivery.deliver(job: job, result: result, client: client, signer: outSigner, config: config, stats: stats, logger: logger)
        }

        let router = Router(context: BasicRequestContext.self)
        router.get("/health") { _, _ -> Response in
            let (counters, recent) = await stats.snapshot()
            return HTTPHelpers.json(.ok, ["status": "ok", "id": signer.identity, "backend": backend.name,
                                          "pending": await queue.pending, "counters": counters, "recent_rejections": recent])
        }
        router.get("/miner_info") { request, _ -> Response in
            let now = Epistula.nowMs()
            if case let .failure(error) = verifier.check(body: [UInt8](), header: { HTTPHelpers.header(request, $0) }, nowMs: now) {
                await stats.reject(error.httpStatus, error.description, logger: logger)
                return HTTPHelpers.error(error.httpStatus, error.description)
            }
            return HTTPHelpers.json(.ok, ["miner_type": "generator", "id": signer.identity])
        }
        for modality in [Modality.image, .video] {
            router.post("/gen_\(modality.rawValue)") { request, _ -> Response in
                await handleChallenge(request, modality: modality, config: config, verifier: verifier, queue: queue, stats: stats, logger: logger)
            }
        }
        let server = try await RunningServer.start(
            router: router, host: config.host, port: config.port,
            timeouts: .init(header: config.headerTimeoutSeconds, body: config.bodyTimeoutSeconds, idle: 30), signals: signals,
            onSlowClient: { Task { await stats.reject(408, "connection closed: request not received within the read timeout", logger: logger) } },
            logger: logger)
        return GeneratorServer(server: server, identity: signer.identity, stats: stats, queue: queue, client: client)
    }

    static func handleChallenge(_ request: Request, modality: Modality, config: GeneratorServerConfig, verifier: EpistulaVerifier,
                                queue: TaskQueue, stats: ServerStats, logger: Logger) async -> Response {
        let now = Epistula.nowMs()
        func reject(_ status: Int, _ reason: String) async -> Response {
            await stats.reject(status, reason, logger: logger)
            return HTTPHelpers.error(status, reason)
        }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > config.maxBodyBytes {
            return await reject(413, "body of \(declared) bytes is above the limit of \(config.maxBodyBytes)")
        }
        guard contentType.hasPrefix("application/json") else {
            return await reject(415, "content type must be application/json, not '\(contentType)'")
        }
        let body: [UInt8]
        do { body = try await HTTPHelpers.collect(request, limit: config.maxBodyBytes) } catch is HTTPHelpers.BodyTooLarge {
            return await reject(413, "body above the limit of \(config.maxBodyBytes) bytes")
        } catch {
            return await reject(400, "cannot read the body: \(error)")
        }
        let validator: String
        switch verifier.check(body: body, header: { HTTPHelpers.header(request, $0) }, nowMs: now) {
        case let .success(id): validator = id
        case let .failure(error): return await reject(error.httpStatus, error.description)
        }
        guard let webhook = HTTPHelpers.header(request, "X-Webhook-URL"), let url = URL(string: webhook),
              ["http", "https"].contains(url.scheme ?? ""), let host = url.host else {
            return await reject(400, "missing or invalid X-Webhook-URL header")
        }
        let bareHost = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard config.webhookHosts.contains(bareHost) else {
            return await reject(400, "webhook host '\(bareHost)' is not allowed (webhook_hosts: \(config.webhookHosts.joined(separator: ", ")))")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let prompt = object["prompt"] as? String, !prompt.trimmingCharacters(in: .whitespaces).isEmpty else {
            return await reject(400, "the body must be JSON with a non-empty 'prompt'")
        }
        let parameters = object["parameters"] as? [String: Any] ?? [:]
        let tier = (parameters["resolution"] as? String).flatMap(ResolutionTier.parse).flatMap { $0.modality == modality ? $0 : nil }
            ?? ResolutionTier.tiers(for: modality)[0]
        let seed: UInt64
        if let n = parameters["seed"] as? NSNumber { seed = n.uint64Value } else if let s = parameters["seed"] as? String, let n = UInt64(s) { seed = n } else {
            seed = StableHash.fnv1a64(prompt)
        }
        let taskID = UUID().uuidString.lowercased()
        let job = TaskQueue.Job(request: GenerationRequest(taskID: taskID, prompt: prompt, modality: modality, tier: tier, seed: seed),
                                webhookURL: webhook, validator: validator)
        guard await queue.submit(job) else { return await reject(503, "too many pending tasks (\(config.maxPendingTasks)); try later") }
        await stats.count("accepted")
        let formatter = ISO8601DateFormatter()
        return HTTPHelpers.json(.accepted, [
            "task_id": taskID, "status": "submitted", "modality": modality.rawValue,
            "prompt": prompt.count > 100 ? String(prompt.prefix(100)) + "..." : prompt,
            "resolution": tier.rawValue, "webhook_url": webhook, "created_at": formatter.string(from: Date()),
        ])
    }

    /// Stops accepting requests, waits up to `drainSeconds` for accepted tasks to be delivered.
    public func stop(drainSeconds: Double = 10) async {
        await server.stop()
        await drain(drainSeconds)
        try? await client.shutdown()
    }

    /// Serves until SIGTERM/SIGINT (when started with those signals), then drains.
    public func wait(drainSeconds: Double = 10) async throws {
        try await server.wait()
        await drain(drainSeconds)
        try? await client.shutdown()
    }

    func drain(_ seconds: Double) async {
        let queue = self.queue
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await queue.waitIdle() }
            group.addTask { try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }
            await group.next()
            group.cancelAll()
        }
    }

    public func health() async -> [String: Int] { await stats.snapshot().0 }
}

/// Webhook delivery with retries (GAS `webhooks.py`: 3 retries, delay 2 s × 2^attempt, 30 s timeout,
/// success iff HTTP < 300). Each attempt is signed afresh (a new uuid and timestamp: a resent
/// request would be a replay). Unlike GAS, a 4xx answer other than 408/429 is final: the
/// validator has judged the delivery and sending the same bytes again cannot change that.
enum Delivery {
    static func deliver(job: TaskQueue.Job, result: GenerationResult, client: HTTPClient, signer: any RequestSigner,
                        config: GeneratorServerConfig, stats: ServerStats, logger: Logger) async {
        var headers: [(String, String)] = [("task-id", job.request.taskID)]
        let body: [UInt8]
        switch result {
        case let .media(bytes):
            body = bytes
            headers += [("Content-Type", MediaSniffer.contentType(bytes, modality: job.request.modality)), ("task-status", "completed")]
        case let .failure(message):
            let object: [String: Any] = ["task_id": job.request.taskID, "task_status": "failed", "error_message": message,
                                         "modality": job.request.modality.rawValue]
            body = [UInt8]((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
            let header = message.unicodeScalars.filter { $0.isASCII && $0.value >= 32 }.map(String.init).joined().prefix(200)
            headers += [("Content-Type", "application/json"), ("task-status", "failed"), ("error-message", String(header))]
        }
        for attempt in 0...config.deliveryRetries {
            if attempt > 0 {
                try? await Task.sleep(nanoseconds: UInt64(config.deliveryRetryDelaySeconds * pow(2, Double(attempt - 1)) * 1e9))
            }
            var request = HTTPClientRequest(url: job.webhookURL)
            request.method = .POST
            for (k, v) in headers { request.headers.add(name: k, value: v) }
            do {
                for (k, v) in try Epistula.headers(body: body, signer: signer, signedFor: job.validator) { request.headers.add(name: k, value: v) }
            } catch {
                logger.error("cannot sign the delivery: \(error)")
                return
            }
            request.body = .bytes(ByteBuffer(bytes: body))
            do {
                let response = try await client.execute(request, timeout: .milliseconds(Int64(config.deliveryTimeoutSeconds * 1000)))
                _ = try? await response.body.collect(upTo: 64 << 10)
                let code = Int(response.status.code)
                if code < 300 {
                    await stats.count("delivered")
                    return
                }
                logger.notice("delivery refused", metadata: ["task": "\(job.request.taskID)", "status": "\(code)", "attempt": "\(attempt + 1)"])
                if (400..<500).contains(code) && code != 408 && code != 429 {
                    await stats.count("delivery_refused")
                    return
                }
            } catch {
                logger.notice("delivery failed", metadata: ["task": "\(job.request.taskID)", "error": "\(error)", "attempt": "\(attempt + 1)"])
            }
        }
        await stats.count("delivery_failed")
    }
}
