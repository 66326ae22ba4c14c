import AsyncHTTPClient
import Foundation
import GASCore
import GASData
import GASMedia
import GASSpec
import GASStore
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// What one live collection does: who to challenge, with which prompts, under which key.
public struct CollectionPlan: Sendable {
    public var roundName: String
    public var sourceIndex: Int
    public var source: GeneratorSource
    public var roster: [RosterEntry]
    public var seed: UInt64
    public var validatorKey: KeyFile

    public init(roundName: String, sourceIndex: Int, source: GeneratorSource, roster: [RosterEntry], seed: UInt64, validatorKey: KeyFile) {
        self.roundName = roundName
        self.sourceIndex = sourceIndex
        self.source = source
        self.roster = roster
        self.seed = seed
        self.validatorKey = validatorKey
    }
}

public struct CollectionOutcome: Sendable {
    public var collection: CollectionRecord
    public var challenges: [ChallengeRecord]
    public var rejections: [WebhookRejection]
}

public enum CollectorError: Error, CustomStringConvertible {
    case roster(String)
    public var description: String {
        switch self {
        case let .roster(s): s
        }
    }
}

/// The validator's side of the adversarial loop: challenge every generator of a roster with
/// deterministic prompts, receive deliveries on a webhook server, verify and store them, and
/// record every outcome (gas-subnet.md §1.4, §3.1–3.4).
public enum ChallengeCollector {
    public static func collect(_ plan: CollectionPlan, store: RunLedger, media: MediaStore,
                               progress: @escaping @Sendable (String) -> Void = { _ in },
                               logger: Logger = ChallengeCollector.quietLogger()) async throws -> CollectionOutcome {
        let signer = try plan.validatorKey.signer()
        let keyRing = try Ed25519KeyRing(publicKeysHex: plan.roster.map(\.publicKey))
        let identities = Dictionary(plan.roster.map { ($0.id, SignerID.make(publicKey: Hex.decode($0.publicKey) ?? [])) }, uniquingKeysWith: { a, _ in a })
        let verifier = EpistulaVerifier(ownIdentity: signer.identity, verifier: keyRing)
        let sequence = try store.collectionCount(roundName: plan.roundName)
        let startedAt = Timestamp.now()
        let collectionID = "\(plan.roundName)-c\(sequence)-\(Timestamp.compact(Date()))"
        let state = CollectionState(collectionID: collectionID, store: store, media: media, checks: plan.source.verify,
                                    duplicates: DuplicateIndex(try store.recentStoredHashes(limit: 1000)))

        // Webhook server first: its URL goes into every challenge.
        let router = Router(context: BasicRequestContext.self)
        router.post("/generative_callback") { request, _ -> Response in
            await Webhook.handle(request, state: state, verifier: verifier, identities: identities, maxBody: plan.source.webhook.maxBodyBytes)
        }
        let server = try await RunningServer.start(
            router: router, host: plan.source.webhook.host, port: plan.source.webhook.port,
            timeouts: .init(header: 5, body: 30, idle: 30),
            onSlowClient: { Task { await state.reject(taskID: nil, generator: nil, status: 408, reason: "connection closed: request not received within the read timeout") } },
            logger: logger)
        let webhookURL = server.baseURL + "/generative_callback"
        var collection = CollectionRecord(id: collectionID, roundName: plan.roundName, sequence: sequence, seed: plan.seed,
                                          validator: signer.identity, webhookURL: webhookURL, startedAt: startedAt)
        try store.createCollection(collection)

        // The challenges: every generator gets every prompt of every modality.
        var challenges: [(ChallengeRecord, RosterEntry, [UInt8])] = []
        for modality in plan.source.modalities {
            let prompts = PromptGenerator.prompts(seed: plan.seed, count: plan.source.prompts, modality: modality, offset: sequence * plan.source.prompts)
            for entry in plan.roster.sorted(by: { $0.id < $1.id }) {
                for (n, prompt) in prompts.enumerated() {
                    let tier = drawTier(seed: plan.seed, label: "tier:\(sequence):\(entry.id):\(modality.rawValue):\(n)", modality: modality, allowed: plan.source.tiers)
                    var g = SplitMix64(seed: plan.seed, label: "generation-seed:" + prompt.id)
                    let genSeed = g.next() >> 12
                    let record = ChallengeRecord(collectionID: collectionID, challengeID: "s\(plan.sourceIndex)/\(entry.id)/\(modality.rawValue)/\(n)",
                                                 generator: entry.id, hotkey: entry.hotkey ?? identities[entry.id], uid: entry.uid,
                                                 modality: modality, promptID: prompt.id, prompt: prompt.text, requestedTier: tier.rawValue,
                                                 sentAt: Timestamp.now())
                    let body: [String: Any] = ["prompt": prompt.text, "parameters": ["resolution": tier.rawValue, "seed": genSeed]]
                    challenges.append((record, entry, [UInt8]((try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data())))
                }
            }
        }
        await state.add(challenges.map(\.0))
        progress("challenging \(plan.roster.count) generator(s) with \(challenges.count) challenge(s), webhook \(webhookURL)")

        var clientConfig = HTTPClient.Configuration()
        clientConfig.timeout = .init(connect: .seconds(5), read: .seconds(30))
        clientConfig.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfig)
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int64(plan.source.deadlineSeconds * 1000))
        await state.setDispatching(true)
        await withTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for (record, entry, body) in challenges {
                if inFlight >= plan.source.concurrency { await group.next(); inFlight -= 1 }
                inFlight += 1
                group.addTask {
                    await dispatch(record, entry: entry, body: body, webhookURL: webhookURL, signer: signer,
                                   signedFor: identities[entry.id] ?? "", client: client, state: state)
                }
            }
        }
        await state.setDispatching(false)
        try? await client.shutdown()

        // Wait for deliveries until every task is resolved or the deadline passes.
        var lastReport = -1
        while clock.now < deadline {
            let open = await state.openCount()
            if open == 0 { break }
            if open != lastReport { progress("waiting for \(open) deliver\(open == 1 ? "y" : "ies")"); lastReport = open }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        await state.expire(deadlineSeconds: plan.source.deadlineSeconds)
        await server.stop()
        let (final, rejections) = await state.snapshot()
        collection.finishedAt = Timestamp.now()
        collection.status = "completed"
        try store.finishCollection(id: collectionID, status: "completed", finishedAt: collection.finishedAt!)
        return CollectionOutcome(collection: collection, challenges: final, rejections: rejections)
    }

    /// Warnings and errors only: progress goes through `progress`.
    public static func quietLogger() -> Logger {
        var logger = Logger(label: "gascli.collector")
        logger.logLevel = .warning
        return logger
    }

    /// A tier drawn with the GAS challenge weights (§2.3), restricted to `allowed` when given.
    static func drawTier(seed: UInt64, label: String, modality: Modality, allowed: [String]?) -> ResolutionTier {
        var weights = ResolutionTier.challengeWeights(for: modality)
        if let allowed, !allowed.isEmpty {
            let set = Set(allowed.compactMap(ResolutionTier.parse))
            let kept = weights.filter { set.contains($0.0) }
            if !kept.isEmpty { weights = kept }
        }
        var rng = SplitMix64(seed: seed, label: label)
        let total = weights.map(\.1).reduce(0, +)
        let x = rng.nextUnit() * total
        var acc = 0.0
        for (tier, w) in weights {
            acc += w
            if x < acc { return tier }
        }
        return weights[weights.count - 1].0
    }

    static func dispatch(_ record: ChallengeRecord, entry: RosterEntry, body bytes: [UInt8], webhookURL: String, signer: any RequestSigner,
                         signedFor: String, client: HTTPClient, state: CollectionState) async {
        var record = record
        record.sentAt = Timestamp.now()
        let base = entry.url.hasSuffix("/") ? String(entry.url.dropLast()) : entry.url
        var request = HTTPClientRequest(url: "\(base)/gen_\(record.modality.rawValue)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Webhook-URL", value: webhookURL)
        do {
            for (k, v) in try Epistula.headers(body: bytes, signer: signer, signedFor: signedFor) { request.headers.add(name: k, value: v) }
        } catch {
            await state.dispatchFailed(record, status: nil, reason: "cannot sign the challenge: \(error)")
            return
        }
        request.body = .bytes(ByteBuffer(bytes: bytes))
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let answer = try await response.body.collect(upTo: 64 << 10)
            let code = Int(response.status.code)
            let object = try? JSONSerialization.jsonObject(with: Data(answer.readableBytesView)) as? [String: Any]
            if code == 201 || code == 202, let taskID = object?["task_id"] as? String, !taskID.isEmpty, taskID.utf8.count <= 128 {
                await state.accepted(record, taskID: taskID, status: code)
            } else {
                let text = String(decoding: answer.readableBytesView.prefix(300), as: UTF8.self)
                let why = (object?["error"] as? String) ?? text
                await state.dispatchFailed(record, status: code, reason: "the generator answered HTTP \(code)\(code == 201 || code == 202 ? " without a task_id" : ""): \(why)")
            }
        } catch {
            await state.dispatchFailed(record, status: nil, reason: "cannot reach the generator at \(entry.url): \(error)")
        }
    }
}

/// Everything a collection knows while it runs; every change is written to the store at once.
actor CollectionState {
    let collectionID: String
    let store: RunLedger
    let media: MediaStore
    let checks: DeliveryChecks
    var duplicates: DuplicateIndex
    var records: [String: ChallengeRecord] = [:]
    var byTask: [String: String] = [:]
    var lastRejection: [String: String] = [:]
    var rejections: [WebhookRejection] = []
    var dispatching = false

    init(collectionID: String, store: RunLedger, media: MediaStore, checks: DeliveryChecks, duplicates: DuplicateIndex) {
        self.collectionID = collectionID
        self.store = store
        self.media = media
        self.checks = checks
        self.duplicates = duplicates
    }

    func persist(_ r: ChallengeRecord) {
        records[r.challengeID] = r
        try? store.upsertChallenges([r])
    }

    func add(_ list: [ChallengeRecord]) {
        for r in list { records[r.challengeID] = r }
        try? store.upsertChallenges(list)
    }

    func setDispatching(_ value: Bool) { dispatching = value }

    func accepted(_ r: ChallengeRecord, taskID: String, status: Int) {
        var r = r
        r.taskID = taskID
        r.phase = "delivery"
        r.httpStatus = status
        r.acceptedAt = Timestamp.now()
        // A delivery may have resolved it already (fast generators answer before we read the 202).
        if let existing = records[r.challengeID], existing.status != "pending" { return }
        byTask[taskID] = r.challengeID
        persist(r)
    }

    func dispatchFailed(_ r: ChallengeRecord, status: Int?, reason: String) {
        var r = r
        r.status = "failed"
        r.phase = "dispatch"
        r.httpStatus = status
        r.reason = reason
        r.resolvedAt = Timestamp.now()
        persist(r)
    }

    /// The open challenge for a task id, waiting briefly while dispatches are in flight (a
    /// delivery can overtake the 202 that announced its task).
    func challenge(forTask taskID: String) async -> ChallengeRecord? {
        for _ in 0..<100 {
            if let id = byTask[taskID], let r = records[id] { return r }
            guard dispatching else { return nil }
            try? await Task.sleep(nanoseconds: 30_000_000)
        }
        return nil
    }

    func reject(taskID: String?, generator: String?, status: Int, reason: String) {
        let r = WebhookRejection(collectionID: collectionID, at: Timestamp.now(), taskID: taskID, generator: generator, httpStatus: status, reason: reason)
        rejections.append(r)
        try? store.recordRejections([r])
        if let taskID, let id = byTask[taskID] { lastRejection[id] = reason }
    }

    /// A generator reported failure (`task-status: failed`).
    func reportedFailure(_ r: ChallengeRecord, message: String) -> Bool {
        guard records[r.challengeID]?.status == "pending" else { return false }
        var r = records[r.challengeID] ?? r
        r.status = "failed"
        r.reason = "miner reported failure: \(message)"
        r.resolvedAt = Timestamp.now()
        r.latencyMs = Timestamp.millisecondsSince(r.sentAt)
        persist(r)
        return true
    }

    enum Verdict { case stored, rejected(DeliveryRejection), alreadyResolved }

    /// Verifies a delivery, checks duplicates and stores it, atomically with respect to other deliveries.
    func deliver(_ challengeID: String, bytes: [UInt8]) -> Verdict {
        guard var r = records[challengeID], r.status == "pending" else { return .alreadyResolved }
        let requested = r.requestedTier.flatMap(ResolutionTier.parse)
        switch DeliveryVerifier.check(bytes, modality: r.modality, requested: requested, checks: checks) {
        case let .failure(rejection):
            r.status = "rejected"
            r.reason = rejection.reason
            r.resolvedAt = Timestamp.now()
            r.latencyMs = Timestamp.millisecondsSince(r.sentAt)
            r.bytes = bytes.count
            persist(r)
            return .rejected(rejection)
        case let .success(verified):
            let sha = MediaStore.sha256Hex(bytes)
            if let dup = duplicates.duplicate(promptID: r.promptID, hash: verified.perceptualHash, sha256: sha, checks: checks) {
                r.status = "rejected"
                r.reason = dup
                r.resolvedAt = Timestamp.now()
                r.latencyMs = Timestamp.millisecondsSince(r.sentAt)
                r.mediaSHA256 = sha
                r.bytes = bytes.count
                r.perceptualHash = verified.perceptualHash.map(PerceptualHash.hex)
                persist(r)
                return .rejected(DeliveryRejection(dup))
            }
            do {
                let (_, relative) = try media.put(bytes, format: verified.format)
                r.mediaPath = relative
            } catch {
                return .rejected(DeliveryRejection("the validator could not store the media: \(error)", status: 500))
            }
            duplicates.add(promptID: r.promptID, hash: verified.perceptualHash, sha256: sha)
            r.status = "stored"
            r.reason = nil
            r.resolvedAt = Timestamp.now()
            r.latencyMs = Timestamp.millisecondsSince(r.sentAt)
            r.mediaSHA256 = sha
            r.format = verified.format
            r.bytes = bytes.count
            r.width = verified.width
            r.height = verified.height
            r.observedTier = verified.observedTier?.rawValue
            r.perceptualHash = verified.perceptualHash.map(PerceptualHash.hex)
            persist(r)
            return .stored
        }
    }

    func openCount() -> Int {
        records.values.filter { $0.status == "pending" && $0.phase == "delivery" }.count
            + (dispatching ? 1 : 0)
    }

    /// Challenges still open at the deadline: rejected when every delivery attempt was refused, else timed out.
    func expire(deadlineSeconds: Double) {
        var changed: [ChallengeRecord] = []
        for (id, var r) in records where r.status == "pending" {
            r.resolvedAt = Timestamp.now()
            if let last = lastRejection[id] {
                r.status = "rejected"
                r.reason = "no valid delivery before the deadline; last attempt refused: \(last)"
            } else {
                r.status = "timed_out"
                r.reason = r.phase == "dispatch" ? "the challenge was never answered" : "no delivery within the deadline of \(deadlineSeconds) s"
            }
            records[id] = r
            changed.append(r)
        }
        try? store.upsertChallenges(changed)
    }

    func snapshot() -> ([ChallengeRecord], [WebhookRejection]) {
        (records.values.sorted { $0.challengeID < $1.challengeID }, rejections)
    }
}

/// `POST /generative_callback` (gas-subnet.md §3.4). Refusals are recorded with their reason:
/// 413 oversized body, 415 wrong content type, 400 missing task id or failed checks,
/// 401/403/409 signature problems (Epistula), 404 unknown task, 409 already resolved.
enum Webhook {
    static func handle(_ request: Request, state: CollectionState, verifier: EpistulaVerifier, identities: [String: String],
                       maxBody: Int) async -> Response {
        let now = Epistula.nowMs()
        let taskID = HTTPHelpers.header(request, "task-id")
        func reject(_ status: Int, _ reason: String, generator: String? = nil) async -> Response {
            await state.reject(taskID: taskID, generator: generator, status: status, reason: reason)
            return HTTPHelpers.error(status, reason)
        }
        let taskStatus = (HTTPHelpers.header(request, "task-status") ?? "completed").lowercased()
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > maxBody {
            return await reject(413, "body of \(declared) bytes is above the webhook limit of \(maxBody)")
        }
        switch taskStatus {
        case "failed":
            guard contentType.hasPrefix("application/json") || contentType.hasPrefix("application/octet-stream") else {
                return await reject(415, "a failure report must be application/json, not '\(contentType)'")
            }
        case "completed":
            guard contentType.hasPrefix("image/") || contentType.hasPrefix("video/") || contentType.hasPrefix("application/octet-stream") else {
                return await reject(415, "media must be image/*, video/* or application/octet-stream, not '\(contentType)'")
            }
        default:
            return await reject(400, "task-status must be completed or failed, not '\(taskStatus)'")
        }
        let body: [UInt8]
        do { body = try await HTTPHelpers.collect(request, limit: maxBody) } catch is HTTPHelpers.BodyTooLarge {
            return await reject(413, "body above the webhook limit of \(maxBody) bytes")
        } catch {
            return await reject(400, "cannot read the body: \(error)")
        }
        guard let taskID, !taskID.isEmpty else { return await reject(400, "missing task-id header") }
        let challenge = await state.challenge(forTask: taskID)
        let signer: String
        switch verifier.check(body: body, header: { HTTPHelpers.header(request, $0) }, nowMs: now) {
        case let .success(id): signer = id
        case let .failure(error): return await reject(error.httpStatus, error.description, generator: challenge?.generator)
        }
        guard let challenge else { return await reject(404, "unknown task id '\(taskID.prefix(64))' (not a task of this collection)") }
        guard identities[challenge.generator] == signer else {
            return await reject(403, "signed by \(signer), but task \(taskID) belongs to generator \(challenge.generator)", generator: challenge.generator)
        }
        if taskStatus == "failed" {
            guard !body.isEmpty else { return await reject(400, "empty failure report", generator: challenge.generator) }
            let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
            let message = (object?["error_message"] as? String) ?? HTTPHelpers.header(request, "error-message") ?? "Unknown error"
            guard await state.reportedFailure(challenge, message: String(message.prefix(500))) else {
                return await reject(409, "task \(taskID) is already resolved", generator: challenge.generator)
            }
            return HTTPHelpers.json(.ok, ["status": "failure recorded"])
        }
        switch await state.deliver(challenge.challengeID, bytes: body) {
        case .stored:
            return HTTPHelpers.json(.ok, ["status": "binary content received"])
        case let .rejected(rejection):
            return await reject(rejection.status, rejection.reason, generator: challenge.generator)
        case .alreadyResolved:
            return await reject(409, "task \(taskID) is already resolved", generator: challenge.generator)
        }
    }
}

/// ISO 8601 UTC timestamps with milliseconds: sortable as text.
public enum Timestamp {
    public static func now() -> String { string(Date()) }

    public static func string(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }

    public static func parse(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }

    public static func compact(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return f.string(from: date)
    }

    static func millisecondsSince(_ text: String) -> Double? {
        parse(text).map { (Date().timeIntervalSince($0) * 1000).rounded() }
    }
}
