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
    static func run(jobs: [DetectorJob], samples: [PlannedSample], store: MediaStore, ledger: RunLedger, runID: String,
                    committed: [String: [Bool]] = [:], lastBatch: [String: Int] = [:],
                    observer: any RunObserver, shouldStop: (@Sendable () -> Bool)? = nil) async throws {
        // Each detector stops at its own batch boundary (never by cancellation, which would turn
        // its batch in flight into error outcomes); the run reports the stop once all have.
        let committer = GroupCommit(ledger: ledger, runID: runID)
        let order = idOrder(samples)
        let stopped = try await withThrowingTaskGroup(of: Bool.self) { group -> Bool in
            for job in jobs {
                // Positions, not copies: the plan's samples are shared by every detector's task.
                let done = committed[job.name] ?? []
                let remaining = done.isEmpty ? order : order.filter { !done[$0] }
                let alreadyDone = samples.count - remaining.count
                let firstBatch = (lastBatch[job.name] ?? 0) + 1
                group.addTask {
                    try await runDetector(job, samples: samples, positions: remaining, alreadyDone: alreadyDone, total: samples.count, firstBatch: firstBatch,
                                          store: store, ledger: committer, runID: runID, observer: observer, shouldStop: shouldStop)
                }
            }
            var any = false
            for try await early in group where early { any = true }
            return any
        }
        if stopped { throw RunnerError.stopped }
    }

    /// The order samples are handed to detectors: by sample id (its UTF-8 bytes), not plan order.
    /// The ledger's outcome index is keyed by sample id, so batches in id order fill neighbouring
    /// index pages: a run of millions of outcomes writes each page a few times instead of about
    /// once per outcome (plan order scatters every batch over the whole index). Ids are sha256 hex
    /// prefixes, sorted by their first 16 digits with the full bytes breaking ties.
    static func idOrder(_ samples: [PlannedSample]) -> [Int] {
        func prefix(_ id: String) -> UInt64? {
            var value: UInt64 = 0, digits = 0
            for b in id.utf8.prefix(16) {
                let d: UInt8
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
                default: return nil
                }
                value = value << 4 | UInt64(d)
                digits += 1
            }
            return digits == 16 ? value : nil
        }
        let keys = samples.map { prefix($0.id) }
        if keys.allSatisfy({ $0 != nil }) {
            return samples.indices.sorted { a, b in
                let (x, y) = (keys[a]!, keys[b]!)
                return x != y ? x < y : Array(samples[a].id.utf8).lexicographicallyPrecedes(Array(samples[b].id.utf8))
            }
        }
        return samples.indices.sorted { Array(samples[$0].id.utf8).lexicographicallyPrecedes(Array(samples[$1].id.utf8)) }
    }

    /// Runs one detector over `samples[positions]`.
    static func runDetector(_ job: DetectorJob, samples: [PlannedSample], positions: [Int], alreadyDone: Int, total: Int, firstBatch: Int,
                            store: MediaStore, ledger: GroupCommit, runID: String, observer: any RunObserver,
                            shouldStop: (@Sendable () -> Bool)? = nil) async throws -> Bool {
        var done = alreadyDone
        observer.handle(.detector(job.name, done: done, total: total))
        guard !positions.isEmpty else { return false }
        // Samples the runner could not read get their `skipped` outcome at once.
        let skipped = positions.filter { samples[$0].skipReason != nil }
        if !skipped.isEmpty {
            try await ledger.commit(skipped.map {
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
            try await ledger.commit(usable.map {
                DetectorOutcome(sampleID: samples[$0].id, detector: job.name, status: .error, error: reason)
            })
            observer.handle(.detector(job.name, done: total, total: total))
            return false
        }

        var batchNumber = firstBatch - 1
        var start = 0
        while start < usable.count {
            let batch = usable[start..<min(start + job.batchSize, usable.count)]
            start += batch.count
            batchNumber += 1
            var outcomes: [DetectorOutcome] = []
            outcomes.reserveCapacity(batch.count)
            let handled = batch.filter { modalities.contains(samples[$0].modality) }
            for p in batch where !modalities.contains(samples[p].modality) {
                outcomes.append(DetectorOutcome(sampleID: samples[p].id, detector: job.name, status: .skipped,
                                                error: "detector does not handle \(samples[p].modality.rawValue)", batch: batchNumber))
            }
            if !handled.isEmpty {
                let inputs = handled.map { p in
                    DetectorInput(sampleID: samples[p].id, path: store.absolutePath(samples[p].mediaPath), modality: samples[p].modality,
                                  seed: samples[p].seed)
                }
                let clock = ContinuousClock()
                let began = clock.now
                let results = await adapter.predict(inputs)
                let elapsed = clock.now - began
                let perSample = (Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15) / Double(inputs.count)
                for (i, p) in handled.enumerated() {
                    let result = i < results.count ? results[i] : .failure(.error, "detector adapter returned \(results.count) results for \(inputs.count) inputs")
                    outcomes.append(DetectorOutcome(sample: samples[p].id, detector: job.name, result: result, latencyMs: perSample, batch: batchNumber))
                }
            }
            try await ledger.commit(outcomes)
            done += batch.count
            observer.handle(.detector(job.name, done: done, total: total))
            // A stop request (graceful shutdown) ends the run between batches: this batch is committed.
            if let shouldStop, shouldStop(), start < usable.count {
                await adapter.stop()
                return true
            }
        }
        await adapter.stop()
        return false
    }
}

/// Commits batches for the detectors running side by side: a batch that arrives while another
/// transaction is being written waits and is committed with the others in the next one. Each
/// batch is still all or nothing and `commit` returns only once it is durable; fewer, larger
/// transactions touch each index page once for several detectors' batches of the same samples.
final class GroupCommit: @unchecked Sendable {
    private let ledger: RunLedger
    private let runID: String
    private let lock = NSLock()
    private var pending: [([DetectorOutcome], CheckedContinuation<Void, any Error>)] = []
    private var writing = false

    init(ledger: RunLedger, runID: String) {
        self.ledger = ledger
        self.runID = runID
    }

    func commit(_ outcomes: [DetectorOutcome]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let becomeWriter = lock.withLock { () -> Bool in
                pending.append((outcomes, continuation))
                if writing { return false }
                writing = true
                return true
            }
            guard becomeWriter else { return }
            while true {
                let batches = lock.withLock { () -> [([DetectorOutcome], CheckedContinuation<Void, any Error>)] in
                    let taken = pending
                    pending.removeAll()
                    if taken.isEmpty { writing = false }
                    return taken
                }
                if batches.isEmpty { return }
                do {
                    try ledger.commit(runID: runID, outcomes: batches.count == 1 ? batches[0].0 : batches.flatMap(\.0))
                    for (_, c) in batches { c.resume() }
                } catch {
                    for (_, c) in batches { c.resume(throwing: error) }
                }
            }
        }
    }
}
