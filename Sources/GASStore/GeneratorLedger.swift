import Foundation
import GASCore
import GRDB

/// One challenge sent to a generator and what came of it (a row of `challenges`).
public struct ChallengeRecord: Sendable, Equatable, Codable {
    public var collectionID: String
    /// `s<source index>/<generator>/<modality>/<n>`: unique within a collection.
    public var challengeID: String
    public var runID: String?
    public var generator: String
    public var hotkey: String?
    public var uid: Int?
    public var taskID: String?
    public var modality: Modality
    public var promptID: String
    public var prompt: String
    public var requestedTier: String?
    /// pending, stored, failed, timed_out, rejected.
    public var status: String
    /// dispatch (the challenge did not reach the generator) or delivery.
    public var phase: String
    public var reason: String?
    public var httpStatus: Int?
    public var sentAt: String
    public var acceptedAt: String?
    public var resolvedAt: String?
    public var latencyMs: Double?
    public var mediaSHA256: String?
    public var mediaPath: String?
    public var format: String?
    public var bytes: Int?
    public var width: Int?
    public var height: Int?
    public var observedTier: String?
    public var perceptualHash: String?

    public init(collectionID: String, challengeID: String, generator: String, hotkey: String?, uid: Int?, modality: Modality,
                promptID: String, prompt: String, requestedTier: String?, sentAt: String) {
        self.collectionID = collectionID
        self.challengeID = challengeID
        self.generator = generator
        self.hotkey = hotkey
        self.uid = uid
        self.modality = modality
        self.promptID = promptID
        self.prompt = prompt
        self.requestedTier = requestedTier
        self.status = "pending"
        self.phase = "dispatch"
        self.sentAt = sentAt
    }

    public var sourceIndex: Int? {
        guard challengeID.hasPrefix("s"), let slash = challengeID.firstIndex(of: "/") else { return nil }
        return Int(challengeID[challengeID.index(after: challengeID.startIndex)..<slash])
    }
}

/// A webhook request the validator refused (bad signature, unknown task, oversized body, ...).
public struct WebhookRejection: Sendable, Equatable, Codable {
    public var collectionID: String
    public var at: String
    public var taskID: String?
    public var generator: String?
    public var httpStatus: Int
    public var reason: String
    public init(collectionID: String, at: String, taskID: String?, generator: String?, httpStatus: Int, reason: String) {
        self.collectionID = collectionID
        self.at = at
        self.taskID = taskID
        self.generator = generator
        self.httpStatus = httpStatus
        self.reason = reason
    }
}

public struct CollectionRecord: Sendable, Equatable {
    public var id: String
    public var roundName: String
    public var sequence: Int
    public var seed: UInt64
    public var validator: String
    public var webhookURL: String
    public var startedAt: String
    public var finishedAt: String?
    public var status: String
    public init(id: String, roundName: String, sequence: Int, seed: UInt64, validator: String, webhookURL: String,
                startedAt: String, finishedAt: String? = nil, status: String = "collecting") {
        self.id = id
        self.roundName = roundName
        self.sequence = sequence
        self.seed = seed
        self.validator = validator
        self.webhookURL = webhookURL
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.status = status
    }
}

/// Generator challenges, collections and scores. The same tables live in each run's run.sqlite
/// (that round's collection, copied in) and in the outputs folder's generators.sqlite (every
/// collection: what `from: store` reads and what duplicate checks compare against).
extension RunLedger {
    public func createCollection(_ c: CollectionRecord) throws {
        try queue.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO collections (id, round_name, sequence, seed, validator, webhook_url, started_at, finished_at, status)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [c.id, c.roundName, c.sequence, Int64(bitPattern: c.seed), c.validator, c.webhookURL, c.startedAt,
                                 c.finishedAt, c.status])
        }
    }

    public func finishCollection(id: String, status: String, finishedAt: String) throws {
        try queue.write { db in
            try db.execute(sql: "UPDATE collections SET status = ?, finished_at = ? WHERE id = ?", arguments: [status, finishedAt, id])
        }
    }

    /// How many collections of this round exist: the next collection's sequence number.
    public func collectionCount(roundName: String) throws -> Int {
        try queue.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM collections WHERE round_name = ?", arguments: [roundName]) ?? 0
        }
    }

    public func upsertChallenges(_ records: [ChallengeRecord], runID: String? = nil) throws {
        try queue.write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO challenges (collection_id, challenge_id, run_id, generator, hotkey, uid, task_id, modality, prompt_id,
                    prompt, requested_tier, status, phase, reason, http_status, sent_at, accepted_at, resolved_at, latency_ms,
                    media_sha256, media_path, format, bytes, width, height, observed_tier, perceptual_hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for c in records {
                let values: [(any DatabaseValueConvertible)?] = [
                    c.collectionID, c.challengeID, runID ?? c.runID, c.generator, c.hotkey, c.uid, c.taskID, c.modality.rawValue, c.promptID,
                    c.prompt, c.requestedTier, c.status, c.phase, c.reason, c.httpStatus, c.sentAt, c.acceptedAt, c.resolvedAt, c.latencyMs,
                    c.mediaSHA256, c.mediaPath, c.format, c.bytes, c.width, c.height, c.observedTier, c.perceptualHash,
                ]
                try statement.execute(arguments: StatementArguments(values))
            }
        }
    }

    public func recordRejections(_ rejections: [WebhookRejection]) throws {
        try queue.write { db in
            for r in rejections {
                let seq = (try Int.fetchOne(db, sql: "SELECT MAX(seq) FROM webhook_rejections WHERE collection_id = ?", arguments: [r.collectionID]) ?? 0) + 1
                try db.execute(sql: """
                    INSERT INTO webhook_rejections (collection_id, seq, at, task_id, generator, http_status, reason) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [r.collectionID, seq, r.at, r.taskID, r.generator, r.httpStatus, r.reason])
            }
        }
    }

    static func challenge(_ row: Row) throws -> ChallengeRecord {
        guard let modality = Modality(rawValue: row["modality"]) else {
            throw StoreError.corrupt(path: "challenges", what: "modality '\(String(describing: row["modality"] as String?))'")
        }
        var c = ChallengeRecord(collectionID: row["collection_id"], challengeID: row["challenge_id"], generator: row["generator"],
                                hotkey: row["hotkey"], uid: row["uid"], modality: modality, promptID: row["prompt_id"],
                                prompt: row["prompt"], requestedTier: row["requested_tier"], sentAt: row["sent_at"])
        c.runID = row["run_id"]
        c.taskID = row["task_id"]
        c.status = row["status"]
        c.phase = row["phase"]
        c.reason = row["reason"]
        c.httpStatus = row["http_status"]
        c.acceptedAt = row["accepted_at"]
        c.resolvedAt = row["resolved_at"]
        c.latencyMs = row["latency_ms"]
        c.mediaSHA256 = row["media_sha256"]
        c.mediaPath = row["media_path"]
        c.format = row["format"]
        c.bytes = row["bytes"]
        c.width = row["width"]
        c.height = row["height"]
        c.observedTier = row["observed_tier"]
        c.perceptualHash = row["perceptual_hash"]
        return c
    }

    public func challenges(collectionID: String? = nil, runID: String? = nil) throws -> [ChallengeRecord] {
        try queue.read { db in
            var sql = "SELECT * FROM challenges WHERE 1 = 1"
            var args: [(any DatabaseValueConvertible)?] = []
            if let collectionID { sql += " AND collection_id = ?"; args.append(collectionID) }
            if let runID { sql += " AND run_id = ?"; args.append(runID) }
            sql += " ORDER BY collection_id, challenge_id"
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(Self.challenge)
        }
    }

    /// Challenges resolved at or after `since` (ISO 8601, compared as text) of completed collections.
    public func challengesResolved(since: String) throws -> [ChallengeRecord] {
        try queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.* FROM challenges c JOIN collections k ON k.id = c.collection_id
                WHERE k.status = 'completed' AND c.resolved_at >= ? ORDER BY c.collection_id, c.challenge_id
                """, arguments: [since]).map(Self.challenge)
        }
    }

    /// The most recent stored media (prompt id, perceptual hash, sha256) for duplicate checks (GAS: 1000).
    public func recentStoredHashes(limit: Int = 1000) throws -> [(promptID: String, hash: String?, sha256: String)] {
        try queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT prompt_id, perceptual_hash, media_sha256 FROM challenges WHERE status = 'stored'
                ORDER BY resolved_at DESC LIMIT ?
                """, arguments: [limit]).map { ($0[0], $0[1], $0[2]) }
        }
    }

    public func rejections(collectionID: String? = nil) throws -> [WebhookRejection] {
        try queue.read { db in
            let rows = collectionID == nil
                ? try Row.fetchAll(db, sql: "SELECT * FROM webhook_rejections ORDER BY collection_id, seq")
                : try Row.fetchAll(db, sql: "SELECT * FROM webhook_rejections WHERE collection_id = ? ORDER BY seq", arguments: [collectionID])
            return rows.map {
                WebhookRejection(collectionID: $0["collection_id"], at: $0["at"], taskID: $0["task_id"], generator: $0["generator"],
                                 httpStatus: $0["http_status"], reason: $0["reason"])
            }
        }
    }

    /// Copies a collection's rejections once (a resumed run does not duplicate them).
    public func importRejections(_ rejections: [WebhookRejection]) throws {
        let present = Set(try queue.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT collection_id FROM webhook_rejections") })
        try recordRejections(rejections.filter { !present.contains($0.collectionID) })
    }

    /// One row per generator and modality (image, video) plus one `all` row holding the final reward.
    public func writeGeneratorScores(runID: String, scores: [GeneratorScore]) throws {
        try queue.write { db in
            try db.execute(sql: "DELETE FROM generator_scores WHERE run_id = ?", arguments: [runID])
            let insert = try db.cachedStatement(sql: """
                INSERT INTO generator_scores (run_id, generator, hotkey, uid, modality, challenges, accepted, pass_rate, fool_rate, samples,
                                              volume_factor, resolution_factor, fool_bonus, reward)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for s in scores {
                for p in s.modalities {
                    try insert.execute(arguments: [runID, s.generator, s.hotkey, s.uid, p.modality.rawValue, p.challenges, p.accepted,
                                                   p.passRate, s.foolRate, s.samples, p.volumeFactor, p.resolutionFactor, s.foolBonus, p.reward])
                }
                try insert.execute(arguments: [runID, s.generator, s.hotkey, s.uid, "all", s.challenges, s.accepted, s.passRate,
                                               s.foolRate, s.samples, nil, nil, s.foolBonus, s.reward])
            }
        }
    }

    /// The `all` rows: generator, reward, pass rate, fool rate; highest reward first.
    public func generatorRewards(runID: String) throws -> [(generator: String, reward: Double, passRate: Double, foolRate: Double?)] {
        try queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT generator, reward, pass_rate, fool_rate FROM generator_scores WHERE run_id = ? AND modality = 'all'
                ORDER BY reward DESC, generator
                """, arguments: [runID]).map { ($0[0], $0[1], $0[2], $0[3]) }
        }
    }
}
