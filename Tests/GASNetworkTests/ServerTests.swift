import Crypto
import Foundation
import GASTestSupport
import Logging
import Testing
@testable import GASCore
@testable import GASData
@testable import GASNetwork
@testable import GASSpec
@testable import GASStore

@Suite("Generator server and validator webhook on loopback", .serialized)
struct ServerTests {
    static func quietLogger() -> Logger {
        var l = Logger(label: "test")
        l.logLevel = .critical
        return l
    }

    func startGenerator(validator: Ed25519Signer, maxBody: Int = 4096, headerTimeout: Double = 5,
                        backend: any GenerationBackend = BuiltinBackend(sizes: [.image1K: 64])) async throws -> (GeneratorServer, Ed25519Signer) {
        let key = Ed25519Signer(privateKey: Curve25519.Signing.PrivateKey())
        var config = GeneratorServerConfig()
        config.port = 0
        config.validators = [validator.publicKeyHex]
        config.maxBodyBytes = maxBody
        config.headerTimeoutSeconds = headerTimeout
        config.bodyTimeoutSeconds = headerTimeout
        config.deliveryRetries = 0
        let server = try await GeneratorServer.start(config: config, signer: key, backend: backend,
                                                     logger: Self.quietLogger())
        return (server, key)
    }

    func challenge(_ prompt: String, signer: any RequestSigner, signedFor: String, at ms: Int64 = Epistula.nowMs(),
                   uuid: String = UUID().uuidString, webhook: String? = "http://127.0.0.1:9/cb",
                   contentType: String = "application/json") throws -> (headers: [(String, String)], body: [UInt8]) {
        let body = [UInt8]((try JSONSerialization.data(withJSONObject: ["prompt": prompt, "parameters": ["resolution": "1K"]])))
        var headers = try Epistula.headers(body: body, signer: signer, signedFor: signedFor, timestampMs: ms, uuid: uuid)
        headers.append(("Content-Type", contentType))
        if let webhook { headers.append(("X-Webhook-URL", webhook)) }
        return (headers, body)
    }

    @Test("Bad input gets 401/403/409/413/415/400 and the server keeps serving")
    func badInput() async throws {
        let validator = Ed25519Signer(privateKey: Curve25519.Signing.PrivateKey())
        let (server, key) = try await startGenerator(validator: validator)
        defer { Task { await server.stop(drainSeconds: 0) } }
        let url = server.baseURL + "/gen_image"

        // Replayed request: same uuid, same signature, within the 15 s window. On a machine loaded by
        // the rest of the suite a request can wait past the window between signing and the server's
        // check, so the first send or the replay is answered as stale (401): the pair is then signed
        // afresh and tried again. Any other answer is judged at once.
        var good = try challenge("a lighthouse", signer: validator, signedFor: key.identity, uuid: "once-1")
        var accepted: Loopback.Reply?
        var replayed: Loopback.Reply?
        for attempt in 1...5 {
            if attempt > 1 { good = try challenge("a lighthouse", signer: validator, signedFor: key.identity, uuid: "once-\(attempt)") }
            let first = try await Loopback.send(url, headers: good.headers, body: good.body)
            accepted = first
            replayed = nil
            if first.isStale { continue }
            let second = try await Loopback.send(url, headers: good.headers, body: good.body)
            replayed = second
            if !second.isStale { break }
        }
        #expect(accepted?.status == 202 && accepted?.body.contains("task_id") == true,
                "first send answered \(accepted?.status ?? 0): \(accepted?.body ?? "")")
        #expect(replayed?.status == 409, "replay answered \(replayed?.status ?? 0): \(replayed?.body ?? "")")
        // No signature at all.
        #expect(try await Loopback.send(url, headers: [("Content-Type", "application/json"), ("X-Webhook-URL", "http://127.0.0.1:9/cb")],
                                        body: good.body).status == 401)
        // Tampered body.
        let tampered = try challenge("a lighthouse", signer: validator, signedFor: key.identity)
        #expect(try await Loopback.send(url, headers: tampered.headers, body: Array(#"{"prompt":"something else"}"#.utf8)).status == 401)
        // Stale timestamp (20 s old).
        let stale = try challenge("x", signer: validator, signedFor: key.identity, at: Epistula.nowMs() - 20_000)
        #expect(try await Loopback.send(url, headers: stale.headers, body: stale.body).status == 401)
        // Unknown signer; signed for someone else.
        let stranger = Ed25519Signer(privateKey: Curve25519.Signing.PrivateKey())
        let unknown = try challenge("x", signer: stranger, signedFor: key.identity)
        #expect(try await Loopback.send(url, headers: unknown.headers, body: unknown.body).status == 403)
        let elsewhere = try challenge("x", signer: validator, signedFor: stranger.identity)
        #expect(try await Loopback.send(url, headers: elsewhere.headers, body: elsewhere.body).status == 403)
        // Oversized body (declared and actual).
        let big = [UInt8](repeating: 0x41, count: 10_000)
        let bigHeaders = try Epistula.headers(body: big, signer: validator, signedFor: key.identity) + [("Content-Type", "application/json")]
        #expect(try await Loopback.send(url, headers: bigHeaders, body: big).status == 413)
        // Wrong content type.
        let text = try challenge("x", signer: validator, signedFor: key.identity, contentType: "text/plain")
        #expect(try await Loopback.send(url, headers: text.headers, body: text.body).status == 415)
        // A request judged after its signature, signed afresh while the answer is "stale" (see above).
        func sendSigned(_ make: () throws -> (headers: [(String, String)], body: [UInt8])) async throws -> Loopback.Reply {
            var reply = Loopback.Reply(status: 0, body: "")
            for _ in 1...5 {
                let request = try make()
                reply = try await Loopback.send(url, headers: request.headers, body: request.body)
                if !reply.isStale { break }
            }
            return reply
        }
        // Missing webhook; a webhook host that is not allowed (not loopback).
        #expect(try await sendSigned { try challenge("x", signer: validator, signedFor: key.identity, webhook: nil) }.status == 400)
        #expect(try await sendSigned {
            try challenge("x", signer: validator, signedFor: key.identity, webhook: "http://example.invalid/cb")
        }.status == 400)

        // Still serving: health and a fresh valid challenge.
        let health = try await Loopback.send(server.baseURL + "/health", method: .GET)
        #expect(health.status == 200 && health.body.contains("rejected_401") && health.body.contains("rejected_409"))
        #expect(try await sendSigned { try challenge("a second lighthouse", signer: validator, signedFor: key.identity) }.status == 202)
        let counters = await server.health()
        #expect(counters["rejected_413"] == 1 && counters["rejected_415"] == 1 && counters["rejected_403"] == 2)
    }

    static let fresh = [("Connection", "close")]

    @Test("A slow-loris client is cut off by the read timeout while others are served")
    func slowLoris() async throws {
        let validator = Ed25519Signer(privateKey: Curve25519.Signing.PrivateKey())
        let (server, _) = try await startGenerator(validator: validator, headerTimeout: 1)
        defer { Task { await server.stop(drainSeconds: 0) } }
        let connection = try Loopback.RawConnection(port: server.port)
        let head = Array("POST /gen_image HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Padding: ".utf8)
        var closed = false
        // Health checks on a fresh connection each: a pooled one left idle past the server's 1 s
        // timeout on a busy machine is closed under the client ("I/O on closed channel").
        var sent = 0
        var served = 0
        // One byte every 100 ms: never idle, never finished. Counting bytes rather than measuring
        // time keeps the test meaningful when the machine is busy: 100 bytes would take 10 s, the
        // header timeout is 1 s.
        for i in 0..<100 {
            if i % 5 == 0 {
                let health = try await Loopback.send(server.baseURL + "/health", method: .GET, headers: Self.fresh)
                #expect(health.status == 200)
                served += 1
            }
            if !connection.send([head[i % head.count]]) || connection.peerClosed() { closed = true; break }
            sent += 1
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(closed, "the slow client was not disconnected")
        #expect(sent < 60, "cut off only after \(sent) bytes")
        #expect(served >= 1)

        // The same with a complete head and a body that trickles in: cut off by the body timeout.
        let slowBody = try Loopback.RawConnection(port: server.port)
        #expect(slowBody.send(Array("POST /gen_image HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n".utf8)))
        var bodyBytes = 0
        var bodyClosed = false
        for _ in 0..<100 {
            if !slowBody.send(Array("{".utf8)) || slowBody.peerClosed() { bodyClosed = true; break }
            bodyBytes += 1
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(bodyClosed && bodyBytes < 60, "body trickle not cut off after \(bodyBytes) bytes")
        #expect(try await Loopback.send(server.baseURL + "/health", method: .GET, headers: Self.fresh).status == 200)
        var counters = await server.health()
        for _ in 0..<50 where (counters["rejected_408"] ?? 0) < 2 {
            try await Task.sleep(nanoseconds: 20_000_000)
            counters = await server.health()
        }
        #expect(counters["rejected_408"] == 2)
    }

    @Test("Webhook: unknown task ids, bad signatures, wrong types and oversized bodies are refused and recorded")
    func webhookBadInput() async throws {
        let dir = try TestSupport.temporaryDirectory("gas-webhook")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let validatorKey = KeyFile.generate()
        let validator = try validatorKey.signer()
        // Deliveries wait for the gate, so the collection is still open while the test misbehaves at the webhook.
        let gate = Gate()
        let (server, generatorKey) = try await startGenerator(validator: validator, backend: GatedBackend(gate: gate))
        defer { Task { await server.stop(drainSeconds: 0) } }
        let roster = [RosterEntry(id: "gen-a", url: server.baseURL, publicKey: Hex.encode(generatorKey.privateKey.publicKey.rawRepresentation),
                                  hotkey: nil, uid: 1)]
        let hookPort = Loopback.freePort()
        var source = GeneratorSource(from: .live, roster: "r.yaml", key: "k.json", prompts: 2, seed: 9, deadlineSeconds: 4, modalities: [.image],
                                     tiers: ["1K"], webhook: WebhookSpec(host: "127.0.0.1", port: hookPort, maxBodyBytes: 1 << 20),
                                     verify: DeliveryChecks(minSide: 32), concurrency: 4, windowSeconds: nil, samples: nil)
        source.deadlineSeconds = 60
        let store = try RunLedger(path: dir + "/generators.sqlite")
        let plan = CollectionPlan(roundName: "hook", sourceIndex: 0, source: source, roster: roster, seed: 9, validatorKey: validatorKey)
        let collecting = Task { try await ChallengeCollector.collect(plan, store: store, media: MediaStore(root: dir), logger: Self.quietLogger()) }
        // Wait for the webhook to listen, then misbehave at it.
        let hook = "http://127.0.0.1:\(hookPort)/generative_callback"
        var statuses: [String: Int] = [:]
        for _ in 0..<200 {
            if (try? Loopback.RawConnection(port: hookPort)) != nil { break }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        let png = [UInt8](repeating: 7, count: 100)
        func signed(_ body: [UInt8], by signer: any RequestSigner, task: String, type: String = "image/png") throws -> [(String, String)] {
            try Epistula.headers(body: body, signer: signer, signedFor: validator.identity) + [("Content-Type", type), ("task-id", task), ("task-status", "completed")]
        }
        // Judged after the signature: signed afresh if it waited past the 15 s window on a loaded machine.
        for _ in 1...5 {
            let reply = try await Loopback.send(hook, headers: try signed(png, by: generatorKey, task: "no-such-task"), body: png)
            statuses["unknown task"] = reply.status
            if !reply.isStale { break }
        }
        statuses["wrong type"] = try await Loopback.send(hook, headers: try signed(png, by: generatorKey, task: "t", type: "text/html"), body: png).status
        let big = [UInt8](repeating: 0, count: (1 << 20) + 10)
        statuses["oversized"] = try await Loopback.send(hook, headers: try signed(big, by: generatorKey, task: "t"), body: big).status
        let stranger = Ed25519Signer(privateKey: Curve25519.Signing.PrivateKey())
        statuses["unknown signer"] = try await Loopback.send(hook, headers: try signed(png, by: stranger, task: "t"), body: png).status
        var forged = try signed(png, by: generatorKey, task: "t")
        forged = forged.map { $0.0 == Epistula.signatureHeader ? ($0.0, "0x" + String(repeating: "ab", count: 64)) : $0 }
        statuses["bad signature"] = try await Loopback.send(hook, headers: forged, body: png).status
        statuses["no task id"] = try await Loopback.send(hook, headers: try Epistula.headers(body: png, signer: generatorKey, signedFor: validator.identity)
                                                            + [("Content-Type", "image/png")], body: png).status

        await gate.open()
        let outcome = try await collecting.value
        #expect(statuses == ["unknown task": 404, "wrong type": 415, "oversized": 413, "unknown signer": 403, "bad signature": 401, "no task id": 400])
        // The honest builtin generator's deliveries were stored meanwhile.
        #expect(outcome.challenges.count == 2 && outcome.challenges.allSatisfy { $0.status == "stored" })
        let recorded = try store.rejections(collectionID: outcome.collection.id)
        #expect(Set(recorded.map(\.httpStatus)).isSuperset(of: [404, 415, 413, 403, 401, 400]))
        #expect(recorded.contains { $0.reason.contains("unknown task id") } && recorded.contains { $0.reason == "bad signature" })
    }

    @Test("Video challenges: MP4 deliveries are accepted by magic bytes and stored without a tier")
    func video() async throws {
        let dir = try TestSupport.temporaryDirectory("gas-video")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let validatorKey = KeyFile.generate()
        let (server, generatorKey) = try await startGenerator(validator: try validatorKey.signer(), backend: VideoBackend())
        defer { Task { await server.stop(drainSeconds: 0) } }
        let roster = [RosterEntry(id: "vid", url: server.baseURL, publicKey: Hex.encode(generatorKey.privateKey.publicKey.rawRepresentation),
                                  hotkey: "hk", uid: 4)]
        let source = GeneratorSource(from: .live, roster: "r.yaml", key: "k.json", prompts: 2, seed: 1, deadlineSeconds: 60, modalities: [.image, .video],
                                     tiers: ["1K", "480p", "720p", "1080p"], webhook: WebhookSpec(), verify: DeliveryChecks(minSide: 32), concurrency: 4, windowSeconds: nil, samples: nil)
        let store = try RunLedger(path: dir + "/generators.sqlite")
        let plan = CollectionPlan(roundName: "vid", sourceIndex: 0, source: source, roster: roster, seed: 1, validatorKey: validatorKey)
        let outcome = try await ChallengeCollector.collect(plan, store: store, media: MediaStore(root: dir), logger: Self.quietLogger())
        let videos = outcome.challenges.filter { $0.modality == .video }
        #expect(videos.count == 2 && videos.allSatisfy { $0.status == "stored" && $0.format == "mp4" && $0.observedTier == nil })
        #expect(videos.allSatisfy { ["480p", "720p", "1080p"].contains($0.requestedTier ?? "") && $0.hotkey == "hk" && $0.uid == 4 })
        #expect(videos.allSatisfy { FileManager.default.fileExists(atPath: dir + "/" + ($0.mediaPath ?? "-")) })
        #expect(outcome.challenges.filter { $0.modality == .image }.allSatisfy { $0.status == "stored" && $0.observedTier == "1K" })
        // Everything is in the store as well, and a second collection of the round asks new prompts.
        #expect(try store.challenges(collectionID: outcome.collection.id).count == 4)
        let second = try await ChallengeCollector.collect(plan, store: store, media: MediaStore(root: dir), logger: Self.quietLogger())
        #expect(Set(second.challenges.map(\.promptID)).isDisjoint(with: Set(outcome.challenges.map(\.promptID))))
        #expect(second.collection.sequence == 1 && second.challenges.allSatisfy { $0.status == "stored" })
    }
}

/// Images from the builtin backend; for video, a minimal MP4-shaped blob (ftyp box) that differs per task.
struct VideoBackend: GenerationBackend {
    var name: String { "video" }
    func generate(_ request: GenerationRequest) async -> GenerationResult {
        guard request.modality == .video else { return await BuiltinBackend(sizes: [.image1K: 64]).generate(request) }
        return .media([0, 0, 0, 24] + Array("ftypisom".utf8) + [0, 0, 2, 0] + Array("isomiso2".utf8) + Array(request.taskID.utf8))
    }
}

/// Opened once; everyone waiting goes on.
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    func open() {
        isOpen = true
        for w in waiters { w.resume() }
        waiters = []
    }
    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}

/// The builtin backend, answering only once the gate opens.
struct GatedBackend: GenerationBackend {
    let gate: Gate
    var name: String { "gated" }
    func generate(_ request: GenerationRequest) async -> GenerationResult {
        await gate.wait()
        return await BuiltinBackend(sizes: [.image1K: 64]).generate(request)
    }
}

extension Loopback.Reply {
    /// Refused as signed too long ago: on a machine loaded by the rest of the suite a request can
    /// wait past the 15 s window between signing and the server's check.
    var isStale: Bool { status == 401 && body.contains("stale") }
}
