import Foundation
import Testing
import GRDB
import GASCore
import GASTestSupport
@testable import GASStore

@Suite struct RunLedgerTests {
    func sample(_ i: Int, label: Int = 0) -> PlannedSample {
        PlannedSample(id: "s\(i)", uri: "dataset://d/\(i).png", sha256: String(repeating: "a", count: 64), byteCount: 10, dataset: "d",
                      sourceKind: .real, mediaType: label == 0 ? .real : .synthetic, modality: .image, seed: UInt64.max >> 1,
                      format: "png", mediaPath: "media/aa/x.png", skipReason: i == 2 ? "unreadable" : nil)
    }

    func ledger() throws -> (RunLedger, String) {
        let dir = try TestSupport.temporaryDirectory("ledger")
        let ledger = try RunLedger(path: dir + "/run.sqlite")
        try ledger.createRun(RunRecord(id: "r1", roundName: "t", specPath: "/s.yaml", specText: "version: 1", resolvedSpecJSON: "{}",
                                       manifestHash: "h", toolVersion: "0", seed: 34, startedAt: "now"),
                             samples: (0..<3).map { sample($0, label: $0 % 2) },
                             detectors: [DetectorRecord(name: "d", adapter: "builtin", configJSON: "{}", artifactSHA256: nil)])
        return (ledger, dir)
    }

    @Test func samplesAndOutcomesRoundTrip() throws {
        let (ledger, _) = try ledger()
        #expect(try ledger.samples(runID: "r1") == (0..<3).map { sample($0, label: $0 % 2) })
        let outcomes = [
            DetectorOutcome(sampleID: "s0", detector: "d", status: .ok, probs: [0.1, 0.9], pAI: 0.9, predicted: 1, latencyMs: 1.5, batch: 1),
            DetectorOutcome(sampleID: "s1", detector: "d", status: .timeout, error: "no response", latencyMs: 0, batch: 1),
        ]
        try ledger.commit(runID: "r1", outcomes: outcomes)
        #expect(try ledger.outcomes(runID: "r1") == outcomes)
    }

    /// What a resume reads: the committed masks and highest batches equal the outcome grid's,
    /// whether outcomes arrive in execution order (the guessed neighbour) or scattered, with an
    /// outcome of a sample outside the plan left out; sample ids come back in plan order.
    @Test func committedProgressEqualsTheGridsInAnyCommitOrder() throws {
        let dir = try TestSupport.temporaryDirectory("progress")
        let ledger = try RunLedger(path: dir + "/run.sqlite")
        var g = SplitMix64(seed: 9)
        let samples = (0..<500).map { i in
            PlannedSample(id: (0..<12).map { _ in String(format: "%02x", UInt8(truncatingIfNeeded: g.next())) }.joined(), uri: "u\(i)",
                          sha256: String(repeating: "b", count: 64), byteCount: 1, dataset: "d", sourceKind: .real,
                          mediaType: i % 2 == 0 ? .real : .synthetic, modality: .image, seed: 1, format: "png", mediaPath: "m")
        }
        try ledger.createRun(RunRecord(id: "r1", roundName: "t", specPath: "/s.yaml", specText: "", resolvedSpecJSON: "{}",
                                       manifestHash: "h", toolVersion: "0", seed: 1, startedAt: "now"), samples: samples, detectors: [])
        let ids = samples.map { $0.id }
        let order = ExecutionOrder.positions(ofIDs: ids)
        // d1: the first 300 in execution order, in batches of 64; d2: a scattered third, one by one, plus a stranger.
        for (b, start) in stride(from: 0, to: 300, by: 64).enumerated() {
            try ledger.commit(runID: "r1", outcomes: order[start..<min(start + 64, 300)].map {
                DetectorOutcome(sampleID: ids[$0], detector: "d1", status: .ok, pAI: 0.5, predicted: 1, batch: b + 1)
            })
        }
        for p in (0..<500).filter({ $0 % 3 == 0 }).shuffled(using: &g) {
            try ledger.commit(runID: "r1", outcomes: [DetectorOutcome(sampleID: ids[p], detector: "d2", status: .error, error: "x", batch: p)])
        }
        try ledger.commit(runID: "r1", outcomes: [DetectorOutcome(sampleID: "not-planned", detector: "d2", status: .ok, pAI: 0.1, batch: 9999)])
        // Strangers among the planned ids in byte order: before all, between two, and a planned id's prefix.
        for stranger in ["0", "8", String(ids[7].dropLast())] {
            try ledger.commit(runID: "r1", outcomes: [DetectorOutcome(sampleID: stranger, detector: "d1", status: .ok, pAI: 0.1, batch: 9999)])
        }

        let progress = try ledger.committedProgress(runID: "r1", sampleIDs: ids)
        #expect(progress == CommittedProgress(try ledger.outcomeGrid(runID: "r1", sampleIDs: ids)))
        #expect(progress.masks["d1"]?.filter { $0 }.count == 300 && progress.lastBatch["d1"] == 5)
        #expect(progress.masks["d2"]?.filter { $0 }.count == 167 && progress.lastBatch["d2"] == 498)
        // Recorded in execution order, so the order comes back with the scan.
        #expect(try ledger.sampleIDs(runID: "r1").ids == ids)
        #expect(try ledger.sampleIDs(runID: "r1").executionOrder == order)
        #expect(try ledger.samplesInStorageOrder(runID: "r1").samples == samples)
        #expect(try ledger.samplesInStorageOrder(runID: "r1").executionOrder == order)
        #expect(try ledger.samplesInStorageOrder(runID: "r1", count: 500).samples == samples, "rows put in their places as read")
        #expect(try ledger.samplesInStorageOrder(runID: "r1", count: 500).executionOrder == order)
        for wrong in [0, 499, 501] {
            #expect(throws: StoreError.self, "a count of \(wrong)") { try ledger.samplesInStorageOrder(runID: "r1", count: wrong) }
        }
        #expect(try ledger.committedProgress(runID: "r1", sampleIDs: ids, executionOrder: order) == progress)
        // A plan read back from the ledger: positions from its samples table, scanned beside the outcomes.
        #expect(try ledger.committedProgressOfRecordedPlan(runID: "r1") == progress)
        let before = try ledger.outcomeWatermark()
        try ledger.commit(runID: "r1", outcomes: [DetectorOutcome(sampleID: ids[1], detector: "d2", status: .ok, pAI: 0.2, batch: 1)])
        #expect(try ledger.outcomeWatermark() > before, "a commit moves the watermark")
    }

    /// Samples and outcomes live in their key's b-tree: a scan gives them by id whatever order they
    /// were written in, so the execution order always comes with it.
    @Test func samplesAreScannedByIDWhateverTheirWritingOrder() throws {
        let (ledger, _) = try ledger()
        #expect(try ledger.samplesInStorageOrder(runID: "r1").executionOrder == [0, 1, 2])
        try ledger.queue.write { db in try db.execute(sql: "UPDATE samples SET sample_id = 'zz' WHERE sample_id = 's0'") }
        #expect(try ledger.samplesInStorageOrder(runID: "r1").executionOrder == [1, 2, 0])
        #expect(try ledger.sampleIDs(runID: "r1").executionOrder == [1, 2, 0])
        #expect(try ledger.sampleIDs(runID: "r1").ids == ["zz", "s1", "s2"])
    }

    /// A ledger of the rowid layout (before "v3-samples-outcomes-without-rowid"), with rows written
    /// out of id order: read as it is when opened read-only, migrated with every row when opened
    /// for writing.
    func oldLayoutLedger() throws -> (path: String, outcomes: [DetectorOutcome]) {
        let path = try TestSupport.temporaryDirectory("old-layout") + "/run.sqlite"
        let queue = try DatabaseQueue(path: path)
        try LedgerSchema.migrator.migrate(queue, upTo: "v2-generator-challenges")
        let outcomes = [
            DetectorOutcome(sampleID: "s2", detector: "d", status: .skipped, error: "unreadable", latencyMs: 0, batch: 1),
            DetectorOutcome(sampleID: "s0", detector: "d", status: .ok, probs: [0.25, 0.75], pAI: 0.75, predicted: 1, latencyMs: 2.5, batch: 1),
            DetectorOutcome(sampleID: "s1", detector: "d", status: .timeout, error: "no response", latencyMs: 0, batch: 2),
        ]
        try queue.write { db in
            try db.execute(sql: "INSERT INTO runs VALUES ('r1', 't', '/s.yaml', 'version: 1', '{}', 'h', '0', 34, 'now', NULL, 'interrupted')")
            for i in [2, 0, 1] {
                let s = sample(i, label: i % 2)
                try db.execute(sql: "INSERT INTO samples VALUES ('r1', ?, ?, ?, ?, ?, ?, 'real', ?, 'image', ?, ?, 'png', ?, ?, NULL)",
                               arguments: [i, s.id, s.uri, s.sha256, s.byteCount, s.dataset, s.mediaType.rawValue, s.label,
                                           Int64(bitPattern: s.seed), s.mediaPath, s.skipReason])
            }
            try db.execute(sql: "INSERT INTO detectors VALUES ('r1', 'd', 'builtin', '{}', NULL)")
            for o in outcomes {
                try db.execute(sql: "INSERT INTO outcomes VALUES ('r1', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               arguments: [o.sampleID, o.detector, o.status.rawValue, o.probs.map(RunLedger.jsonArray), o.pAI, o.predicted,
                                           o.error, o.latencyMs, o.batch])
            }
        }
        return (path, outcomes)
    }

    /// Rows not stored by id (the rowid layout, read without migrating): no order comes with the scan.
    @Test func samplesNotStoredByIDGiveNoExecutionOrder() throws {
        let (path, outcomes) = try oldLayoutLedger()
        let ledger = try RunLedger(path: path, create: false, readOnly: true)
        #expect(try ledger.samplesInStorageOrder(runID: "r1").executionOrder == nil)
        #expect(try ledger.sampleIDs(runID: "r1").executionOrder == nil)
        #expect(try ledger.sampleIDs(runID: "r1").ids == ["s0", "s1", "s2"])
        #expect(try ledger.samples(runID: "r1") == (0..<3).map { sample($0, label: $0 % 2) })
        #expect(try Set(ledger.outcomes(runID: "r1").map(\.sampleID)) == Set(outcomes.map(\.sampleID)))
        #expect((try? ledger.outcomeWatermark()) == nil, "no commit count before the migration")
    }

    /// Opening an old ledger for writing moves its rows into the new tables: the same samples and
    /// outcomes, now scanned by id, the commits counted from there, new commits accepted once.
    @Test func theRowidLayoutMigratesWithEveryRow() throws {
        let (path, outcomes) = try oldLayoutLedger()
        let ledger = try RunLedger(path: path)
        #expect(try ledger.samples(runID: "r1") == (0..<3).map { sample($0, label: $0 % 2) })
        #expect(try ledger.samplesInStorageOrder(runID: "r1").executionOrder == [0, 1, 2])
        #expect(try ledger.outcomes(runID: "r1").sorted { $0.sampleID < $1.sampleID } == outcomes.sorted { $0.sampleID < $1.sampleID })
        #expect(try ledger.run(id: "r1")?.status == "interrupted")
        let tables = try ledger.queue.read { db in
            try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE name IN ('samples', 'outcome_rows') ORDER BY name")
        }
        #expect(tables.count == 2 && tables.allSatisfy { $0.hasSuffix("WITHOUT ROWID") }, "\(tables)")
        let before = try ledger.outcomeWatermark()
        try ledger.commit(runID: "r1", outcomes: [outcomes[1]])  // already there: ignored
        #expect(try ledger.outcomeWatermark() == before + 1)
        #expect(try ledger.count("outcomes", runID: "r1") == 3)
        #expect(try ledger.queue.read { db in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") }.isEmpty)
        #expect(try ledger.queue.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") } == 4096, "an existing file keeps its page size")
    }

    /// A ledger of the v3 layout (outcomes keyed by run id first) holding two runs moves every
    /// outcome through v4 (keyed by sample id first) into the rows keyed by sample id and lane
    /// (v5); each run reads back its own outcomes in sample-id order, and a pair already there is
    /// still committed only once.
    @Test func olderOutcomeLayoutsMigrateToLanes() throws {
        let path = try TestSupport.temporaryDirectory("v3-layout") + "/run.sqlite"
        let queue = try DatabaseQueue(path: path)
        try LedgerSchema.migrator.migrate(queue, upTo: "v3-samples-outcomes-without-rowid")
        func outcome(_ run: String, _ i: Int) -> DetectorOutcome {
            DetectorOutcome(sampleID: "s\(i)", detector: "d", status: .ok, probs: [Double(i) / 4], pAI: Double(i) / 4,
                            predicted: i > 1 ? 1 : 0, latencyMs: Double(i), batch: run == "r1" ? 1 : 2)
        }
        try queue.write { db in
            for run in ["r1", "r2"] {
                try db.execute(sql: "INSERT INTO runs VALUES (?, 't', '/s.yaml', 'version: 1', '{}', 'h', '0', 34, 'now', NULL, 'interrupted')",
                               arguments: [run])
                for i in [2, 0, 1, 3] {
                    let s = sample(i)
                    try db.execute(sql: "INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, ?, 'real', ?, 'image', ?, ?, 'png', ?, ?, NULL)",
                                   arguments: [run, i, s.id, s.uri, s.sha256, s.byteCount, s.dataset, s.mediaType.rawValue, s.label,
                                               Int64(bitPattern: s.seed), s.mediaPath, s.skipReason])
                    let o = outcome(run, i)
                    try db.execute(sql: "INSERT INTO outcomes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                   arguments: [run, o.sampleID, o.detector, o.status.rawValue, o.probs.map(RunLedger.jsonArray), o.pAI,
                                               o.predicted, o.error, o.latencyMs, o.batch])
                }
                try db.execute(sql: "INSERT INTO detectors VALUES (?, 'd', 'builtin', '{}', NULL)", arguments: [run])
            }
            try db.execute(sql: "UPDATE outcome_commits SET count = 8")
        }
        let ledger = try RunLedger(path: path)
        let table = try ledger.queue.read { db in try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'outcome_rows'") }
        #expect(table?.contains("PRIMARY KEY (sample_id, lane)") == true, "\(table ?? "no outcome_rows table")")
        for run in ["r1", "r2"] {
            #expect(try ledger.outcomes(runID: run) == (0..<4).map { outcome(run, $0) })
            #expect(try ledger.count("outcomes", runID: run) == 4)
        }
        #expect(try ledger.outcomeWatermark() == 8)
        try ledger.commit(runID: "r2", outcomes: [DetectorOutcome(sampleID: "s1", detector: "d", status: .error, error: "late")])
        #expect(try ledger.outcomes(runID: "r2")[1] == outcome("r2", 1))
        #expect(try ledger.lastBatch(runID: "r1") == ["d": 1])
        #expect(try ledger.lastBatch(runID: "r2") == ["d": 2])
    }

    /// A run created without its samples has them recorded chunk by chunk, in execution order; a
    /// recording that stopped part way is completed by recording them all again (nothing twice).
    @Test func samplesRecordedInChunksAfterTheRunEqualThoseRecordedWithIt() throws {
        let dir = try TestSupport.temporaryDirectory("chunks")
        let ledger = try RunLedger(path: dir + "/run.sqlite")
        let samples = (0..<11).map { sample($0, label: $0 % 2) }
        let order = ExecutionOrder.positions(of: samples)
        try ledger.createRun(RunRecord(id: "r1", roundName: "t", specPath: "/s.yaml", specText: "version: 1", resolvedSpecJSON: "{}",
                                       manifestHash: "h", toolVersion: "0", seed: 34, startedAt: "now"),
                             samples: samples, detectors: [DetectorRecord(name: "d", adapter: "builtin", configJSON: "{}", artifactSHA256: nil)],
                             executionOrder: order, withSamples: false)
        #expect(try ledger.count("samples", runID: "r1") == 0)
        // Interrupted after 4 of them: those are in execution order's first chunks.
        try ledger.recordSamples(samples, order: Array(order.prefix(4)), runID: "r1", chunk: 3)
        #expect(try ledger.count("samples", runID: "r1") == 4)
        #expect(throws: StoreError.self) { try ledger.samples(runID: "r1") }  // positions with gaps: not a plan to take back
        try ledger.recordSamples(samples, order: order, runID: "r1", chunk: 3)
        #expect(try ledger.count("samples", runID: "r1") == samples.count)
        let read = try ledger.samplesInStorageOrder(runID: "r1")
        #expect(read.samples == samples && read.executionOrder == order)
    }

    /// A samples table whose positions have a gap is refused, naming the problem.
    @Test func samplesWithAPositionGapAreReportedAsCorrupt() throws {
        let (ledger, _) = try ledger()
        try ledger.queue.write { db in try db.execute(sql: "UPDATE samples SET position = 7 WHERE sample_id = 's1'") }
        #expect { try ledger.samples(runID: "r1") } throws: { "\($0)".contains("position 7") }
    }

    @Test func aPairIsWrittenOnceEvenIfCommittedTwice() throws {
        let (ledger, _) = try ledger()
        let first = DetectorOutcome(sampleID: "s0", detector: "d", status: .ok, probs: [0.3], pAI: 0.3, predicted: 0, latencyMs: 1, batch: 1)
        try ledger.commit(runID: "r1", outcomes: [first])
        try ledger.commit(runID: "r1", outcomes: [DetectorOutcome(sampleID: "s0", detector: "d", status: .error, error: "late")])
        #expect(try ledger.outcomes(runID: "r1") == [first])
        #expect(try ledger.count("outcomes", runID: "r1") == 1)
    }

    /// No foreign key ties an outcome to its sample since the run id left the outcome rows (v5):
    /// an outcome of a sample outside the run's plan is stored, but neither the run's outcomes nor
    /// its grid (what is scored) read it.
    @Test func outcomesForUnknownSamplesAreNotReadAsTheRunsOutcomes() throws {
        let (ledger, _) = try ledger()
        let known = DetectorOutcome(sampleID: "s0", detector: "d", status: .ok, pAI: 0.5)
        try ledger.commit(runID: "r1", outcomes: [known])
        try ledger.commit(runID: "r1", outcomes: [DetectorOutcome(sampleID: "ghost", detector: "d", status: .ok, pAI: 0.5)])
        #expect(try ledger.count("outcomes", runID: "r1") == 2)
        #expect(try ledger.outcomes(runID: "r1") == [known])
        let grid = try ledger.outcomeGrid(runID: "r1", sampleIDs: (0..<3).map { sample($0).id })
        #expect(grid.count == 1 && grid.detectors == ["d"])
    }

    /// Each run's detectors have lanes of their own: two runs in one ledger with the same detector
    /// names read back only their own outcomes, through the `outcomes` view as through the grid.
    @Test func runsSharingALedgerKeepTheirOutcomesApart() throws {
        let (ledger, _) = try ledger()
        try ledger.createRun(RunRecord(id: "r2", roundName: "t", specPath: "/s.yaml", specText: "version: 1", resolvedSpecJSON: "{}",
                                       manifestHash: "h", toolVersion: "0", seed: 34, startedAt: "later"),
                             samples: (0..<3).map { sample($0, label: $0 % 2) },
                             detectors: [DetectorRecord(name: "d", adapter: "builtin", configJSON: "{}", artifactSHA256: nil)])
        func outcome(_ i: Int, _ detector: String, _ p: Double) -> DetectorOutcome {
            DetectorOutcome(sampleID: sample(i).id, detector: detector, status: .ok, probs: [p], pAI: p, predicted: p > 0.5 ? 1 : 0,
                            latencyMs: p, batch: 1)
        }
        let first = [outcome(0, "d", 0.1), outcome(1, "d", 0.2), outcome(0, "e", 0.3)]
        let second = [outcome(1, "d", 0.9), outcome(2, "e", 0.8)]
        try ledger.commit(runID: "r1", outcomes: first)
        try ledger.commit(runID: "r2", outcomes: second)
        #expect(try ledger.outcomes(runID: "r1") == [first[0], first[1], first[2]])
        #expect(try ledger.outcomes(runID: "r2") == second)
        #expect(try ledger.count("outcomes", runID: "r1") == 3 && ledger.count("outcomes", runID: "r2") == 2)
        #expect(try ledger.statusCounts(runID: "r2") == ["d": ["ok": 1], "e": ["ok": 1]])
        let ids = (0..<3).map { sample($0).id }
        let grid = try ledger.outcomeGrid(runID: "r2", sampleIDs: ids)
        #expect(grid.count == 2 && grid.detectors == ["d", "e"])
        #expect(try ledger.committedProgress(runID: "r1", sampleIDs: ids).masks == ["d": [true, true, false], "e": [true, false, false]])
        for run in ["r1", "r2"] {
            #expect(try ledger.committedProgressOfRecordedPlan(runID: run) == ledger.committedProgress(runID: run, sampleIDs: ids))
        }
        #expect(try ledger.committedPairs(runID: "r2") == ["d": [ids[1]], "e": [ids[2]]])
    }

    /// A run's twenty lanes are found among another run's, whose lanes come between them: each
    /// detector gets its own samples and batch.
    @Test func manyDetectorsAmongAnotherRunsAreReadByTheirLanes() throws {
        let (ledger, _) = try ledger()
        try ledger.createRun(RunRecord(id: "r2", roundName: "t", specPath: "/s.yaml", specText: "version: 1", resolvedSpecJSON: "{}",
                                       manifestHash: "h", toolVersion: "0", seed: 34, startedAt: "later"),
                             samples: (0..<3).map { sample($0, label: $0 % 2) }, detectors: [])
        let ids = (0..<3).map { sample($0).id }
        var g = SplitMix64(seed: 3)
        var expected: [String: (mask: [Bool], batch: Int)] = [:]
        // Detectors of both runs created turn about, so each run's lanes are spread between the other's.
        for d in 0..<40 {
            let run = d % 2 == 0 ? "r1" : "r2"
            let name = "det\(d)"
            let some = (0..<3).filter { _ in g.next() % 2 == 0 }
            let positions = some.isEmpty ? [d % 3] : some  // every detector has a lane
            let batch = d + 1
            try ledger.commit(runID: run, outcomes: positions.map {
                DetectorOutcome(sampleID: ids[$0], detector: name, status: .ok, pAI: 0.5, batch: batch)
            })
            if run == "r1" { expected[name] = ((0..<3).map { positions.contains($0) }, batch) }
        }
        for progress in [try ledger.committedProgress(runID: "r1", sampleIDs: ids), try ledger.committedProgressOfRecordedPlan(runID: "r1")] {
            #expect(progress.masks.count == 20 && expected.count == 20)
            for (name, want) in expected {
                #expect(progress.masks[name] == want.mask, "\(name)")
                #expect(progress.lastBatch[name] == want.batch, "\(name)")
            }
        }
    }

    /// Positions outside 0..<count or taken twice are a damaged ledger, named as such, not masks
    /// that would mark the wrong samples committed or a plan with a sample missing.
    @Test func recordedPlanProgressRefusesDamagedPositions() throws {
        for (sample, position) in [("s1", 0), ("s2", 3), ("s0", -1)] {
            let (ledger, _) = try ledger()
            try ledger.commit(runID: "r1", outcomes: [DetectorOutcome(sampleID: "s0", detector: "d", status: .ok, pAI: 0.5, batch: 1)])
            try ledger.queue.write { db in
                try db.execute(sql: "UPDATE samples SET position = ? WHERE sample_id = ?", arguments: [position, sample])
            }
            #expect(throws: StoreError.self, "\(sample) at \(position)") { try ledger.committedProgressOfRecordedPlan(runID: "r1") }
            #expect(throws: StoreError.self, "\(sample) at \(position)") { try ledger.samplesInStorageOrder(runID: "r1", count: 3) }
            #expect(throws: StoreError.self, "\(sample) at \(position)") { try ledger.samplesInStorageOrder(runID: "r1") }
        }
    }

    /// The `outcomes` view takes writes as the table did (tools and tests that edit a ledger):
    /// an insert of a new detector gets its lane, and an update or delete touches that run's row only.
    @Test func theOutcomesViewTakesInsertsUpdatesAndDeletes() throws {
        let (ledger, _) = try ledger()
        try ledger.commit(runID: "r1", outcomes: [DetectorOutcome(sampleID: "s0", detector: "d", status: .ok, pAI: 0.5, batch: 1)])
        try ledger.queue.write { db in
            try db.execute(sql: "INSERT INTO runs VALUES ('r2', 't', '/s.yaml', 'version: 1', '{}', 'h', '0', 34, 'now', NULL, 'running')")
            try db.execute(sql: "INSERT INTO outcomes VALUES ('r2', 's0', 'd', 'ok', '[0.25]', 0.25, 0, NULL, 1.0, 1)")
            try db.execute(sql: "INSERT INTO outcomes VALUES ('r1', 's1', 'new', 'error', NULL, NULL, NULL, 'boom', 0.0, 2)")
            try db.execute(sql: "UPDATE outcomes SET p_ai = 0.75 WHERE run_id = 'r2' AND sample_id = 's0'")
        }
        #expect(try ledger.outcomes(runID: "r1").map(\.pAI) == [0.5, nil])
        #expect(try ledger.outcomes(runID: "r1").last?.detector == "new")
        #expect(try ledger.queue.read { db in try Double.fetchAll(db, sql: "SELECT p_ai FROM outcomes WHERE run_id = 'r2'") } == [0.75])
        try ledger.queue.write { db in try db.execute(sql: "DELETE FROM outcomes WHERE run_id = 'r1' AND sample_id = 's0'") }
        #expect(try ledger.count("outcomes", runID: "r1") == 1 && ledger.count("outcomes", runID: "r2") == 1)
    }

    /// Batches longer than one INSERT statement's rows, and a tail, all land once.
    @Test func longBatchesAreCommittedWhole() throws {
        let (ledger, _) = try ledger()
        let outcomes = (0..<(RunLedger.rowsPerInsert * 2 + 5)).map { i in
            DetectorOutcome(sampleID: "s0", detector: "d\(i)", status: i % 3 == 0 ? .error : .ok, probs: i % 3 == 0 ? nil : [0.25, 0.75],
                            pAI: i % 3 == 0 ? nil : 0.75, predicted: i % 3 == 0 ? nil : 1, error: i % 3 == 0 ? "e\(i)" : nil,
                            latencyMs: Double(i), batch: i)
        }
        try ledger.commit(runID: "r1", outcomes: outcomes)
        try ledger.commit(runID: "r1", outcomes: outcomes)
        #expect(try ledger.count("outcomes", runID: "r1") == outcomes.count)
        #expect(Set(try ledger.outcomes(runID: "r1").map(\.detector)) == Set(outcomes.map(\.detector)))
        #expect(try ledger.outcomes(runID: "r1").sorted { $0.batch < $1.batch } == outcomes)
    }

    /// Batches encoded where they are made (`OutcomeRows`) store the same text as before: the
    /// probabilities as `jsonArray` writes them (shortest round-tripping doubles), NULLs where absent.
    @Test func encodedBatchesStoreTheSameText() throws {
        let (ledger, _) = try ledger()
        let values: [[Double]] = [[0.1 + 0.2], [5e-324, 1], [0.25, 0.5, 0.25], [1e-7]]
        var outcomes = values.enumerated().map { i, probs in
            DetectorOutcome(sampleID: "s0", detector: "d\(i)", status: .ok, probs: probs, pAI: probs.last, predicted: 1, latencyMs: 0.5, batch: 3)
        }
        outcomes.append(DetectorOutcome(sampleID: "s1", detector: "d0", status: .error, error: "détecteur: ✗", latencyMs: 0, batch: 4))
        try ledger.commit(runID: "r1", batches: [OutcomeRows(Array(outcomes.prefix(2))), OutcomeRows(Array(outcomes.dropFirst(2)))])
        let stored = try ledger.queue.read { db in
            try Row.fetchAll(db, sql: "SELECT detector, probs_json, error FROM outcomes WHERE sample_id = 's0' ORDER BY detector")
        }
        #expect(stored.map { $0["probs_json"] as String? } == values.map(RunLedger.jsonArray))
        #expect(stored.allSatisfy { ($0["error"] as String?) == nil })
        #expect(try ledger.outcomes(runID: "r1").sorted { ($0.sampleID, $0.detector) < ($1.sampleID, $1.detector) } == outcomes)
    }

    /// What runs before a new run's commit (the runner waits there for its manifest file) sees the
    /// run not yet visible to other connections; when it fails, nothing of the run is recorded.
    @Test func aRunIsCommittedOnlyAfterItsBeforeCommitStep() throws {
        let dir = try TestSupport.temporaryDirectory("before-commit")
        let ledger = try RunLedger(path: dir + "/run.sqlite")
        let record = RunRecord(id: "r1", roundName: "t", specPath: "/s.yaml", specText: "version: 1", resolvedSpecJSON: "{}",
                               manifestHash: "h", toolVersion: "0", seed: 34, startedAt: "now")
        let detectors = [DetectorRecord(name: "d", adapter: "builtin", configJSON: "{}", artifactSHA256: nil)]
        struct ManifestNotWritten: Error {}
        #expect(throws: ManifestNotWritten.self) {
            _ = try ledger.openRun(record, samples: (0..<3).map { sample($0) }, detectors: detectors, beforeCommit: { throw ManifestNotWritten() })
        }
        #expect(try ledger.run(id: "r1") == nil)
        #expect(try ledger.count("samples", runID: "r1") == 0)

        var seenByAnotherConnection: RunRecord?? = nil
        let opened = try ledger.openRun(record, samples: (0..<3).map { sample($0) }, detectors: detectors, beforeCommit: {
            seenByAnotherConnection = try RunLedger(path: dir + "/run.sqlite", create: false, readOnly: true).run(id: "r1")
        })
        #expect(opened == .created)
        #expect(seenByAnotherConnection == .some(nil), "the run is not committed while the step runs")
        #expect(try ledger.run(id: "r1")?.manifestHash == "h")
        #expect(try ledger.count("samples", runID: "r1") == 3)
    }

    /// The grid read from the ledger holds what the outcomes committed hold: detectors in name
    /// order whatever order they were committed in, errors and missing p_ai kept, an outcome of a
    /// sample outside the plan left out.
    @Test func theGridReadBackEqualsTheCommittedOutcomes() throws {
        let (ledger, _) = try ledger()
        let outcomes = [
            DetectorOutcome(sampleID: "s1", detector: "zeta", status: .ok, probs: [0.4], pAI: 0.4, predicted: 0, latencyMs: 3, batch: 2),
            DetectorOutcome(sampleID: "s0", detector: "zeta", status: .error, error: "crashed", latencyMs: 1, batch: 1),
            DetectorOutcome(sampleID: "s2", detector: "alpha", status: .skipped, error: "unreadable", latencyMs: 0, batch: 1),
            DetectorOutcome(sampleID: "s0", detector: "alpha", status: .ok, probs: [0.2, 0.8], pAI: 0.8, predicted: 1, latencyMs: 2, batch: 1),
            DetectorOutcome(sampleID: "ghost", detector: "alpha", status: .ok, pAI: 0.5, latencyMs: 0, batch: 9),
        ]
        try ledger.commit(runID: "r1", outcomes: outcomes)
        let ids = ["s0", "s1", "s2"]
        let read = try ledger.outcomeGrid(runID: "r1", sampleIDs: ids)
        let built = OutcomeGrid(sampleIDs: ids, outcomes: outcomes)
        #expect(read.detectors == ["alpha", "zeta"])
        #expect(read.count == 4 && read.statusCounts == built.statusCounts)
        #expect(read.outcomes().map { [$0.sampleID, $0.detector, $0.status.rawValue, $0.error ?? "-", "\($0.pAI ?? -1)", "\($0.batch)", "\($0.latencyMs)"] }
                == built.outcomes().map { [$0.sampleID, $0.detector, $0.status.rawValue, $0.error ?? "-", "\($0.pAI ?? -1)", "\($0.batch)", "\($0.latencyMs)"] })
    }

    /// Samples go in chunks of several rows with their text bound in place: every field of every
    /// sample comes back, across chunk edges, for NULLs, empty and non-ASCII text and extreme numbers.
    @Test func everySampleFieldRoundTripsAcrossInsertChunks() throws {
        let dir = try TestSupport.temporaryDirectory("ledger-chunks")
        let ledger = try RunLedger(path: dir + "/run.sqlite")
        var samples: [PlannedSample] = []
        for i in 0..<(2 * RunLedger.rowsPerInsert + 7) {
            let id = String(format: "%08x", (i * 2_654_435_761) & 0xFFFF_FFFF) + "-\(i)"
            let uri = i % 5 == 0 ? "" : "dataset://d/ü\(i)/ファイル.png"
            let sha = String(repeating: "\(i % 10)", count: 64)
            let dataset = i % 2 == 0 ? "d" : "données"
            let source: SourceKind = i % 3 == 0 ? .synthetic : .real
            let media: MediaType = i % 2 == 0 ? .real : .synthetic
            let modality: Modality = i % 4 == 0 ? .audio : .image
            let seed: UInt64 = i % 7 == 0 ? UInt64.max : UInt64(i)
            let skip: String? = i % 6 == 1 ? "unreadable: \"quoted\"\n" : nil
            let family: String? = i % 4 == 1 ? "gan" : (i % 9 == 0 ? "" : nil)
            samples.append(PlannedSample(id: id, uri: uri, sha256: sha, byteCount: i * 1_000_003, dataset: dataset, sourceKind: source,
                                         mediaType: media, modality: modality, seed: seed, format: i % 4 == 0 ? "wav" : "png",
                                         mediaPath: "media/\(i % 100)/\(i).png", skipReason: skip, generatorFamily: family))
        }
        try ledger.createRun(RunRecord(id: "r-chunks", roundName: "t", specPath: "/s.yaml", specText: "version: 1", resolvedSpecJSON: "{}",
                                       manifestHash: "h", toolVersion: "0", seed: 34, startedAt: "now"),
                             samples: samples, detectors: [])
        #expect(try ledger.samples(runID: "r-chunks") == samples)
    }

    @Test func reopeningKeepsData() throws {
        let (ledger, dir) = try ledger()
        #expect(try ledger.queue.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") } == 16384, "a new ledger has 16 KiB pages")
        try ledger.finishRun(id: "r1", status: "completed", finishedAt: "later")
        let reopened = try RunLedger(path: dir + "/run.sqlite")
        #expect(try reopened.run(id: "r1")?.status == "completed")
        #expect(try reopened.run(id: "r1")?.seed == 34)
    }
}
