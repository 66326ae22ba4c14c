import Foundation
import GASCore
import GASData
import GASStore

/// plan -> outcomes: runs every detector over its samples in batches, committing each batch.
enum RoundExecutor {
    struct DetectorJob: Sendable {
        var name: String
        var batchSize: Int
        var adapter: (any DetectorAdapter)?
        /// Why the adapter could not be created, when it could not.
        var setupFailure: String?
    }

    /// Runs every job over the samples it has no committed outcome for yet (`committed`: per
    /// detector, a mask over `samples`), so a resumed run evaluates each (sample, detector) pair exactly once.
    /// Samples go to the detectors in `ExecutionOrder` (by sample id), batches cut on that order.
    static func run(jobs: [DetectorJob], samples: [PlannedSample], store: MediaStore, ledger: any OutcomeLedger, runID: String,
                    committed: [String: [Bool]] = [:], lastBatch: [String: Int] = [:],
                    observer: any RunObserver, shouldStop: (@Sendable () -> Bool)? = nil,
                    globalPositions: [String: Int]? = nil, executionOrder: [Int]? = nil,
                    recorder: OutcomeGridRecorder? = nil) async throws {
        // Each detector stops at its own batch boundary (never by cancellation, which would turn
        // its batch in flight into error outcomes); the run reports the stop once all have.
        let committer = GroupCommit(ledger: ledger, runID: runID)
        defer { committer.finish() }
        let order = executionOrder ?? ExecutionOrder.positions(of: samples)
        let stopped = try await withThrowingTaskGroup(of: Bool.self) { group -> Bool in
            for job in jobs {
                // Positions, not copies: the plan's samples are shared by every detector's task.
                let done = committed[job.name] ?? []
                let remaining = done.isEmpty ? order : order.filter { !done[$0] }
                let alreadyDone = samples.count - remaining.count
                let firstBatch = (lastBatch[job.name] ?? 0) + 1
                group.addTask {
                    try await runDetector(job, samples: samples, positions: remaining, alreadyDone: alreadyDone, total: samples.count, firstBatch: firstBatch,
                                          store: store, ledger: committer, runID: runID, observer: observer, shouldStop: shouldStop,
                                          globalPositions: globalPositions, recorder: recorder)
                }
            }
            var any = false
            for try await early in group where early { any = true }
            return any
        }
        if stopped { throw RunnerError.stopped }
    }

    /// Runs one detector over `samples[positions]`.
    static func runDetector(_ job: DetectorJob, samples: [PlannedSample], positions: [Int], alreadyDone: Int, total: Int, firstBatch: Int,
                            store: MediaStore, ledger: GroupCommit, runID: String, observer: any RunObserver,
                            shouldStop: (@Sendable () -> Bool)? = nil, globalPositions: [String: Int]? = nil,
                            recorder: OutcomeGridRecorder? = nil) async throws -> Bool {
        /// Commits a batch, then hands it to `recorder` (outcomes[i] is the sample at positions[i]).
        func commit(_ positions: [Int], _ outcomes: [DetectorOutcome]) async throws {
            try await ledger.commit(outcomes)
            recorder?.record(detector: job.name, positions: positions, outcomes: outcomes)
        }
        var done = alreadyDone
        observer.handle(.detector(job.name, done: done, total: total))
        guard !positions.isEmpty else { return false }
        // Samples the runner could not read get their `skipped` outcome at once.
        let skipped = positions.filter { samples[$0].skipReason != nil }
        if !skipped.isEmpty {
            try await commit(skipped, skipped.map {
                DetectorOutcome(sampleID: samples[$0].id, detector: job.name, status: .skipped, error: samples[$0].skipReason)
            })
            done += skipped.count
            observer.handle(.detector(job.name, done: done, total: total))
        }
        let usable = skipped.isEmpty ? positions : positions.filter { samples[$0].skipReason == nil }
        guard !usable.isEmpty else { return false }

        var failure = job.setupFailure
        var modalities: Set<Modality> = Set(Modality.allCases)
        if failure == nil, let adapter = job.adapter {
            do {
                let hello = try await adapter.start()
                modalities = Set(hello.modalities)
            } catch {
                failure = "detector did not start: \(error)"
            }
        }
        guard failure == nil, let adapter = job.adapter else {
            let reason = failure ?? "detector is not available"
            observer.handle(.warning("\(job.name): \(reason)"))
            try await commit(usable, usable.map {
                DetectorOutcome(sampleID: samples[$0].id, detector: job.name, status: .error, error: reason)
            })
            observer.handle(.detector(job.name, done: total, total: total))
            return false
        }

        // Every modality offered (the common case): no per-sample check.
        let handlesAll = modalities.isSuperset(of: Modality.allCases)
        let readsMedia = adapter.readsMedia
        let batches = globalPositions.map { Self.gridBatches(usable, of: samples, batchSize: job.batchSize, positions: $0) }
            ?? Self.batches(usable, batchSize: job.batchSize, firstBatch: firstBatch)
        for (index, (batchNumber, batchPositions)) in batches.enumerated() {
            let last = index == batches.count - 1
            // Positions into the shared samples throughout: copying a sample retains each of its strings.
            var outcomes: [DetectorOutcome] = []
            outcomes.reserveCapacity(batchPositions.count)
            let handled = handlesAll ? batchPositions : batchPositions.filter { modalities.contains(samples[$0].modality) }
            var outcomePositions = handled.count == batchPositions.count ? [] : batchPositions.filter { !modalities.contains(samples[$0].modality) }
            for p in outcomePositions {
                outcomes.append(DetectorOutcome(sampleID: samples[p].id, detector: job.name, status: .skipped,
                                                error: "detector does not handle \(samples[p].modality.rawValue)", batch: batchNumber))
            }
            if !handled.isEmpty {
                // Each id's text made once, for the input and the outcome (a packed id is written out anew each time).
                let inputs = handled.map {
                    DetectorInput(sampleID: samples[$0].id, path: readsMedia ? store.absolutePath(samples[$0].mediaPath) : "",
                                  modality: samples[$0].modality, seed: samples[$0].seed)
                }
                let clock = ContinuousClock()
                let began = clock.now
                let results = await adapter.predict(inputs)
                let elapsed = clock.now - began
                let perSample = !adapter.measuresLatency ? 0
                    : (Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15) / Double(inputs.count)
                for i in handled.indices {
                    let result = i < results.count ? results[i] : .failure(.error, "detector adapter returned \(results.count) results for \(inputs.count) inputs")
                    outcomes.append(DetectorOutcome(sample: inputs[i].sampleID, detector: job.name, result: result, latencyMs: perSample, batch: batchNumber))
                }
            }
            outcomePositions.append(contentsOf: handled)
            FaultInjection.reach(.batchPredicted)
            try await commit(outcomePositions, outcomes)
            FaultInjection.reach(.batchCommitted)
            done += batchPositions.count
            observer.handle(.detector(job.name, done: done, total: total))
            // A stop request (graceful shutdown) ends the run between batches: this batch is committed.
            if let shouldStop, shouldStop(), !last {
                await adapter.stop()
                return true
            }
        }
        await adapter.stop()
        return false
    }

    /// Consecutive batches of `batchSize` positions, numbered on from `firstBatch`.
    static func batches(_ positions: [Int], batchSize: Int, firstBatch: Int) -> [(number: Int, positions: [Int])] {
        let size = max(1, batchSize)
        return stride(from: 0, to: positions.count, by: size).enumerated().map { i, start in
            (firstBatch + i, Array(positions[start..<min(start + size, positions.count)]))
        }
    }

    /// A shard's batches on the unsharded run's grid: the usable sample at position p of the whole
    /// plan's execution order belongs to batch p / batchSize + 1, so batch numbers (and which samples share a batch)
    /// are those an unsharded run gives, cut only where a shard's range begins or ends.
    static func gridBatches(_ usable: [Int], of samples: [PlannedSample], batchSize: Int,
                            positions: [String: Int]) -> [(number: Int, positions: [Int])] {
        var result: [(number: Int, positions: [Int])] = []
        for p in usable {
            let number = (positions[samples[p].id] ?? 0) / max(1, batchSize) + 1
            if let lastNumber = result.last?.number, lastNumber == number {
                result[result.count - 1].positions.append(p)
            } else {
                result.append((number, [p]))
            }
        }
        return result
    }
}

/// Commits batches for the detectors running side by side: a batch that arrives while another
/// transaction is being written waits and is committed with the others in the next one. Each
/// batch is still all or nothing and `commit` returns only once it is durable; fewer, larger
/// transactions touch each index page once for several detectors' batches of the same samples.
/// The transactions are written on a thread of the committer's own: written on a detector's task,
/// they held one of the cooperative pool's threads (one of two on a 2-core machine) for as long
/// as the ledger was busy, also with the samples recorded beside the detectors.
final class GroupCommit: @unchecked Sendable {
    private let ledger: any OutcomeLedger
    private let runID: String
    private let condition = NSCondition()
    private var pending: [(NewOutcomes, CheckedContinuation<Void, any Error>)] = []
    private var writerRunning = false
    private var finished = false

    init(ledger: any OutcomeLedger, runID: String) {
        self.ledger = ledger
        self.runID = runID
    }

    func commit(_ outcomes: [DetectorOutcome]) async throws {
        // A shared (PostgreSQL) ledger takes each batch as its own transaction: its writers are
        // other processes too, and its commits retry on their own connection.
        guard let sqlite = ledger as? RunLedger else {
            try await ledger.commit(runID: runID, outcomes: outcomes)
            return
        }
        // Encoded here, on the detector's task: the writer only inserts.
        let encoded = NewOutcomes(outcomes)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            condition.lock()
            pending.append((encoded, continuation))
            if !writerRunning {
                writerRunning = true
                Thread.detachNewThread { [self] in write(sqlite) }
            }
            condition.signal()
            condition.unlock()
        }
    }

    /// No more batches will come: the writer thread ends once it has committed what it holds.
    func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    private func write(_ sqlite: RunLedger) {
        while true {
            condition.lock()
            while pending.isEmpty && !finished { condition.wait() }
            let batches = pending
            pending.removeAll()
            if batches.isEmpty { writerRunning = false }
            condition.unlock()
            if batches.isEmpty { return }
            do {
                try sqlite.commitNew(runID: runID, batches.map(\.0))
                for (_, c) in batches { c.resume() }
            } catch {
                for (_, c) in batches { c.resume(throwing: error) }
            }
        }
    }
}
