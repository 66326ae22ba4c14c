import Foundation
import GASCore
import GASStore
import GRDB

/// A round as the validator records it.
public struct RoundRow: Sendable, Equatable {
    public var schedule: String
    public var occurrence: Int64
    public var position: Int64
    public var label: String
    public var runID: String?
    public var runDirectory: String?
    public var seed: UInt64?
    public var status: String
    public var reason: String?
    public var attempts: Int
    public var startedBlock: Int64?
    public var finishedBlock: Int64?
    public var startedAt: String?
    public var finishedAt: String?
}

public struct WeightSetRow: Sendable, Equatable {
    public var occurrence: Int64
    public var status: String
    public var reason: String?
    public var computedBlock: Int64?
    public var emittedBlock: Int64?
    public var path: String?
    public var uids: [Int]
    public var weights: [Int]
    public var vectorJSON: String?
    public var computedAt: String?
    public var emittedAt: String?
}

public struct EventRow: Sendable, Equatable {
    public var id: Int64
    public var at: String
    public var block: Int64?
    public var level: String
    public var kind: String
    public var subject: String?
    public var message: String
}

public struct SinkAttemptRow: Sendable, Equatable {
    public var occurrence: Int64
    public var sink: Int
    public var kind: String
    public var target: String
    public var attempt: Int
    public var outcome: String
    public var detail: String?
    public var seconds: Double
    public var block: Int64?
}

/// One generator reward row of a round, as copied from the run's `generator_scores`.
public struct GeneratorRewardRow: Sendable, Equatable {
    public var hotkey: String
    public var uid: Int?
    public var modality: String
    public var generator: String
    public var accepted: Int
    public var reward: Double
}

/// The validator's SQLite state: schedules and their cursors, rounds, kings, generator averages,
/// every weight vector with its inputs, sink attempts, and events (errors included).
public final class StateStore: Sendable {
    public let path: String
    let queue: DatabaseQueue

    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        do {
            if !readOnly {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            } else if !FileManager.default.fileExists(atPath: path) {
                throw StoreError.database(path: path, underlying: "no validator state here yet; start the service first (gascli validator start --config FILE)")
            }
            var config = Configuration()
            config.readonly = readOnly
            config.busyMode = .timeout(10)
            if !readOnly {
                config.prepareDatabase { db in
                    try db.execute(sql: "PRAGMA journal_mode = WAL")
                    try db.execute(sql: "PRAGMA synchronous = NORMAL")
                }
            }
            queue = try DatabaseQueue(path: path, configuration: config)
            let migrator = StateSchema.migrator
            let unknown = try queue.read { db -> [String] in
                guard try db.tableExists("grdb_migrations") else { return [] }
                return try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations").filter { !migrator.migrations.contains($0) }
            }
            if !unknown.isEmpty { throw StoreError.newerSchema(path: path, unknown: unknown) }
            if !readOnly { try migrator.migrate(queue) }
        } catch let error as DatabaseError {
            throw StoreError.database(path: path, underlying: error.description)
        }
    }

    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.write(body) } catch let e as DatabaseError { throw StoreError.database(path: path, underlying: e.description) }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.read(body) } catch let e as DatabaseError { throw StoreError.database(path: path, underlying: e.description) }
    }

    // MARK: service values

    public func value(_ key: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM service WHERE key = ?", arguments: [key]) }
    }

    public func setValue(_ key: String, _ value: String) throws {
        try write { db in try db.execute(sql: "INSERT OR REPLACE INTO service (key, value) VALUES (?, ?)", arguments: [key, value]) }
    }

    // MARK: events

    @discardableResult
    public func event(_ level: String, _ kind: String, subject: String? = nil, block: Int64? = nil, _ message: String) throws -> Int64 {
        try write { db in
            try db.execute(sql: "INSERT INTO events (at, block, level, kind, subject, message) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [Self.now(), block, level, kind, subject, message])
            return db.lastInsertedRowID
        }
    }

    public func events(kind: String? = nil, limit: Int = 50) throws -> [EventRow] {
        try read { db in
            let sql = "SELECT id, at, block, level, kind, subject, message FROM events" + (kind == nil ? "" : " WHERE kind = ?") + " ORDER BY id DESC LIMIT ?"
            let args: StatementArguments = kind.map { [$0, limit] } ?? [limit]
            return try Row.fetchAll(db, sql: sql, arguments: args).map {
                EventRow(id: $0[0], at: $0[1], block: $0[2], level: $0[3], kind: $0[4], subject: $0[5], message: $0[6])
            }
        }
    }

    // MARK: schedules

    public func registerSchedule(name: String, spec: String, cadence: String, catchUp: String, initialCursor: Int64?) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO schedules (name, spec_path, cadence, catch_up, cursor, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET spec_path = excluded.spec_path, catch_up = excluded.catch_up, updated_at = excluded.updated_at,
                    cursor = CASE WHEN schedules.cadence = excluded.cadence THEN schedules.cursor ELSE excluded.cursor END,
                    cadence = excluded.cadence
                """, arguments: [name, spec, cadence, catchUp, initialCursor, Self.now()])
        }
    }

    public func cursor(schedule: String) throws -> Int64? {
        try read { db in try Int64.fetchOne(db, sql: "SELECT cursor FROM schedules WHERE name = ?", arguments: [schedule]) }
    }

    public func schedules() throws -> [(name: String, spec: String, cadence: String, catchUp: String, cursor: Int64?)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT name, spec_path, cadence, catch_up, cursor FROM schedules ORDER BY name").map { ($0[0], $0[1], $0[2], $0[3], $0[4]) }
        }
    }

    // MARK: rounds

    static func roundRow(_ r: Row) -> RoundRow {
        RoundRow(schedule: r["schedule"], occurrence: r["occurrence"], position: r["position"], label: r["label"], runID: r["run_id"],
                 runDirectory: r["run_directory"], seed: (r["seed"] as Int64?).map { UInt64(bitPattern: $0) }, status: r["status"],
                 reason: r["reason"], attempts: r["attempts"], startedBlock: r["started_block"], finishedBlock: r["finished_block"],
                 startedAt: r["started_at"], finishedAt: r["finished_at"])
    }

    /// Records occurrences that will not run and moves the schedule's cursor past them.
    public func skipRounds(schedule: String, occurrences: [(key: Int64, position: Int64, label: String)], reason: String, cursor: Int64) throws {
        try write { db in
            for o in occurrences {
                try db.execute(sql: """
                    INSERT OR IGNORE INTO rounds (schedule, occurrence, position, label, status, reason) VALUES (?, ?, ?, ?, 'skipped', ?)
                    """, arguments: [schedule, o.key, o.position, o.label, reason])
            }
            try db.execute(sql: "UPDATE schedules SET cursor = MAX(COALESCE(cursor, ?), ?), updated_at = ? WHERE name = ?",
                           arguments: [cursor, cursor, Self.now(), schedule])
        }
    }

    /// Marks a round running (new, or resumed) and moves the schedule's cursor to it, atomically.
    public func startRound(_ row: RoundRow, block: Int64) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO rounds (schedule, occurrence, position, label, run_id, run_directory, seed, status, attempts, started_block, started_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'running', 1, ?, ?)
                ON CONFLICT(schedule, occurrence) DO UPDATE SET status = 'running', reason = NULL, attempts = rounds.attempts + 1,
                    run_id = excluded.run_id, run_directory = excluded.run_directory, seed = excluded.seed
                """, arguments: [row.schedule, row.occurrence, row.position, row.label, row.runID, row.runDirectory,
                                 row.seed.map { Int64(bitPattern: $0) }, block, Self.now()])
            try db.execute(sql: "UPDATE schedules SET cursor = MAX(COALESCE(cursor, ?), ?), updated_at = ? WHERE name = ?",
                           arguments: [row.occurrence, row.occurrence, Self.now(), row.schedule])
        }
    }

    public func finishRound(schedule: String, occurrence: Int64, status: String, reason: String?, block: Int64?) throws {
        try write { db in
            try db.execute(sql: "UPDATE rounds SET status = ?, reason = ?, finished_block = ?, finished_at = ? WHERE schedule = ? AND occurrence = ?",
                           arguments: [status, reason, block, Self.now(), schedule, occurrence])
        }
    }

    /// A finished round's results, all in one transaction: entrants, generator rewards, kings, status.
    public func completeRound(schedule: String, occurrence: Int64, position: Int64, runID: String, block: Int64,
                              entrants: [(modality: String, detector: String, hotkey: String, uid: Int?, sn34: Double)],
                              rewards: [GeneratorRewardRow],
                              kingUpdates: [(modality: String, event: KingEvent, winner: Entrant?, kings: [String])]) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM round_entrants WHERE schedule = ? AND occurrence = ?", arguments: [schedule, occurrence])
            for e in entrants {
                try db.execute(sql: "INSERT INTO round_entrants (schedule, occurrence, modality, detector, hotkey, uid, sn34) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               arguments: [schedule, occurrence, e.modality, e.detector, e.hotkey, e.uid, e.sn34])
            }
            try db.execute(sql: "DELETE FROM generator_rewards WHERE schedule = ? AND occurrence = ?", arguments: [schedule, occurrence])
            for r in rewards {
                try db.execute(sql: """
                    INSERT OR REPLACE INTO generator_rewards (schedule, occurrence, position, run_id, hotkey, uid, modality, generator, accepted, reward)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [schedule, occurrence, position, runID, r.hotkey, r.uid, r.modality, r.generator, r.accepted, r.reward])
            }
            for k in kingUpdates {
                try db.execute(sql: """
                    INSERT OR REPLACE INTO king_events (schedule, occurrence, modality, position, event, winner, winner_score, kings_json)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [schedule, occurrence, k.modality, position, k.event.rawValue, k.winner?.hotkey, k.winner?.score,
                                     String(decoding: try JSONEncoder().encode(k.kings), as: UTF8.self)])
                try db.execute(sql: "DELETE FROM kings WHERE modality = ?", arguments: [k.modality])
                for (rank, hotkey) in k.kings.enumerated() {
                    try db.execute(sql: "INSERT INTO kings (modality, rank, hotkey) VALUES (?, ?, ?)", arguments: [k.modality, rank + 1, hotkey])
                }
            }
            try db.execute(sql: "UPDATE rounds SET status = 'completed', reason = NULL, finished_block = ?, finished_at = ? WHERE schedule = ? AND occurrence = ?",
                           arguments: [block, Self.now(), schedule, occurrence])
        }
    }

    public func rounds(status: [String]? = nil, schedule: String? = nil, limit: Int = 1000) throws -> [RoundRow] {
        try read { db in
            var clauses: [String] = []
            var args: [DatabaseValueConvertible?] = []
            if let status { clauses.append("status IN (\(status.map { _ in "?" }.joined(separator: ",")))"); args += status }
            if let schedule { clauses.append("schedule = ?"); args.append(schedule) }
            let sql = "SELECT * FROM rounds" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
                + " ORDER BY position, schedule LIMIT ?"
            args.append(limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map(Self.roundRow)
        }
    }

    public func lastRound(schedule: String) throws -> RoundRow? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM rounds WHERE schedule = ? AND status != 'skipped' ORDER BY occurrence DESC LIMIT 1",
                             arguments: [schedule]).map(Self.roundRow)
        }
    }

    // MARK: scores

    public func kings() throws -> [String: [String]] {
        try read { db in
            var result: [String: [String]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT modality, hotkey FROM kings ORDER BY modality, rank") {
                result[row[0], default: []].append(row[1])
            }
            return result
        }
    }

    public func generatorState() throws -> [String: GeneratorScoreState] {
        try read { db in
            var result: [String: GeneratorScoreState] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT hotkey, ema, last_seen_block FROM generator_state") {
                result[row[0]] = GeneratorScoreState(ema: row[1], lastSeenBlock: row[2])
            }
            return result
        }
    }

    /// Generator rewards of rounds positioned in (from, to].
    public func generatorRewards(from: Int64, to: Int64) throws -> [(schedule: String, occurrence: Int64, position: Int64, row: GeneratorRewardRow)] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT schedule, occurrence, position, hotkey, uid, modality, generator, accepted, reward FROM generator_rewards
                WHERE position > ? AND position <= ? ORDER BY position, schedule, hotkey, modality, generator
                """, arguments: [from, to]).map {
                ($0[0], $0[1], $0[2], GeneratorRewardRow(hotkey: $0[3], uid: $0[4], modality: $0[5], generator: $0[6], accepted: $0[7], reward: $0[8]))
            }
        }
    }

    // MARK: weights

    static func weightRow(_ r: Row) -> WeightSetRow {
        func ints(_ s: String?) -> [Int] { s.flatMap { try? JSONDecoder().decode([Int].self, from: Data($0.utf8)) } ?? [] }
        return WeightSetRow(occurrence: r["occurrence"], status: r["status"], reason: r["reason"], computedBlock: r["computed_block"],
                            emittedBlock: r["emitted_block"], path: r["path"], uids: ints(r["uids_json"]), weights: ints(r["weights_json"]),
                            vectorJSON: r["vector_json"], computedAt: r["computed_at"], emittedAt: r["emitted_at"])
    }

    public func weightSet(_ occurrence: Int64) throws -> WeightSetRow? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM weight_sets WHERE occurrence = ?", arguments: [occurrence]).map(Self.weightRow) }
    }

    public func weightSets(limit: Int = 1000) throws -> [WeightSetRow] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM weight_sets ORDER BY occurrence DESC LIMIT ?", arguments: [limit]).map(Self.weightRow) }
    }

    /// The inputs a weight set was computed from.
    public func weightInputs(_ occurrence: Int64) throws -> WeightInputs? {
        guard let json = try read({ db in try String.fetchOne(db, sql: "SELECT inputs_json FROM weight_sets WHERE occurrence = ?", arguments: [occurrence]) })
        else { return nil }
        return try? JSONDecoder().decode(WeightInputs.self, from: Data(json.utf8))
    }

    /// Weight sets computed but not yet emitted (waiting for a fresh chain head or the rate limit).
    public func pendingWeightSets() throws -> [WeightSetRow] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM weight_sets WHERE status = 'computed' ORDER BY occurrence").map(Self.weightRow) }
    }

    /// The block of the last set that reached at least one sink.
    public func lastEmittedBlock() throws -> Int64? {
        try read { db in try Int64.fetchOne(db, sql: "SELECT MAX(emitted_block) FROM weight_sets WHERE status IN ('emitted', 'partial')") }
    }

    public func recordWeightStatus(occurrence: Int64, status: String, reason: String?) throws {
        try write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO weight_sets (occurrence, status, reason) VALUES (?, ?, ?)", arguments: [occurrence, status, reason])
            try db.execute(sql: "UPDATE weight_sets SET status = ?, reason = ? WHERE occurrence = ?", arguments: [status, reason, occurrence])
        }
    }

    /// A computed weight vector with its inputs and the generator averages it advanced, in one transaction.
    public func storeComputedWeights(occurrence: Int64, block: Int64, inputs: WeightInputs, vector: WeightVector, metagraphSHA256: String,
                                     generatorState: [String: GeneratorScoreState]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let inputsJSON = String(decoding: try encoder.encode(inputs), as: UTF8.self)
        let vectorJSON = String(decoding: try encoder.encode(vector), as: UTF8.self)
        let hotkeys = Dictionary(inputs.neurons.map { ($0.uid, $0.hotkey) }, uniquingKeysWith: { a, _ in a })
        let processed = Dictionary(zip(vector.processedUIDs, vector.processed), uniquingKeysWith: { a, _ in a })
        let u16 = Dictionary(zip(vector.uids, vector.weights), uniquingKeysWith: { a, _ in a })
        try write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO weight_sets (occurrence, status, computed_block, path, uids_json, weights_json, inputs_json, vector_json,
                    metagraph_sha256, computed_at)
                VALUES (?, 'computed', ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [occurrence, block, vector.path.rawValue,
                                 String(decoding: try encoder.encode(vector.uids), as: UTF8.self),
                                 String(decoding: try encoder.encode(vector.weights.map(Int.init)), as: UTF8.self),
                                 inputsJSON, vectorJSON, metagraphSHA256, Self.now()])
            try db.execute(sql: "DELETE FROM weight_entries WHERE occurrence = ?", arguments: [occurrence])
            for uid in 0..<vector.raw.count {
                try db.execute(sql: "INSERT INTO weight_entries (occurrence, uid, hotkey, raw, processed, u16) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [occurrence, uid, hotkeys[uid] ?? "", vector.raw[uid], processed[uid] ?? 0, Int(u16[uid] ?? 0)])
            }
            try db.execute(sql: "DELETE FROM generator_state")
            for (hotkey, s) in generatorState.sorted(by: { $0.key < $1.key }) {
                try db.execute(sql: "INSERT INTO generator_state (hotkey, ema, last_seen_block) VALUES (?, ?, ?)",
                               arguments: [hotkey, s.ema, s.lastSeenBlock])
            }
            // Older sets still waiting are replaced by this one.
            try db.execute(sql: "UPDATE weight_sets SET status = 'superseded', reason = ? WHERE status = 'computed' AND occurrence < ?",
                           arguments: ["replaced by the weight set of occurrence \(occurrence) before it could be emitted", occurrence])
            try db.execute(sql: "INSERT OR REPLACE INTO service (key, value) VALUES ('weights_cursor', ?)", arguments: [String(occurrence)])
        }
    }

    public func finishWeights(occurrence: Int64, status: String, reason: String?, emittedBlock: Int64?) throws {
        try write { db in
            try db.execute(sql: "UPDATE weight_sets SET status = ?, reason = ?, emitted_block = ?, emitted_at = ? WHERE occurrence = ?",
                           arguments: [status, reason, emittedBlock, emittedBlock == nil ? nil : Self.now(), occurrence])
        }
    }

    public func recordSinkAttempt(_ a: SinkAttemptRow) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO sink_attempts (occurrence, sink, kind, target, attempt, outcome, detail, seconds, block, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [a.occurrence, a.sink, a.kind, a.target, a.attempt, a.outcome, a.detail, a.seconds, a.block, Self.now()])
        }
    }

    public func sinkAttempts(occurrence: Int64? = nil) throws -> [SinkAttemptRow] {
        try read { db in
            let sql = "SELECT occurrence, sink, kind, target, attempt, outcome, detail, seconds, block FROM sink_attempts"
                + (occurrence == nil ? "" : " WHERE occurrence = ?") + " ORDER BY id"
            return try Row.fetchAll(db, sql: sql, arguments: occurrence.map { [$0] } ?? []).map {
                SinkAttemptRow(occurrence: $0[0], sink: $0[1], kind: $0[2], target: $0[3], attempt: $0[4], outcome: $0[5], detail: $0[6], seconds: $0[7], block: $0[8])
            }
        }
    }

    /// Every weight entry of every computed set, for the Parquet file.
    public func weightEntries() throws -> [(occurrence: Int64, status: String, computedBlock: Int64?, emittedBlock: Int64?, uid: Int, hotkey: String,
                                            raw: Double, processed: Double, u16: Int)] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT e.occurrence, s.status, s.computed_block, s.emitted_block, e.uid, e.hotkey, e.raw, e.processed, e.u16
                FROM weight_entries e JOIN weight_sets s ON s.occurrence = e.occurrence ORDER BY e.occurrence, e.uid
                """).map { ($0[0], $0[1], $0[2], $0[3], $0[4], $0[5], $0[6], $0[7], $0[8]) }
        }
    }

    /// Rows of a table as text, for comparisons in tests and audits (columns in `columns` order).
    public func dump(_ sql: String) throws -> [[String]] {
        try read { db in
            try Row.fetchAll(db, sql: sql).map { row in
                row.databaseValues.map { v -> String in
                    switch v.storage {
                    case .null: "NULL"
                    case let .int64(i): String(i)
                    case let .double(d): "\(d)"
                    case let .string(s): s
                    case let .blob(b): b.map { String(format: "%02x", $0) }.joined()
                    }
                }
            }
        }
    }
}
