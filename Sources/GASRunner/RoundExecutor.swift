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

    /// Runs every job over the samples it has no committed outcome for yet (`committed`), so a
    /// resumed run evaluates each (sample, detector) pair exactly once.
    static func run(jobs: [DetectorJob], samples: [PlannedSample], store: MediaStore, ledger: any OutcomeLedger, runID: String,
                    committed: [String: Set<String>] = [:], lastBatch: [String: Int] = [:],
                    observer: any RunObserver, shouldStop: (@Sendable () -> Bool)? = nil,
                    globalPositions: [String: Int]? = nil) async throws {
        // Each detector stops at its own batch boundary (never by cancellation, which would turn
        // its batch in flight into error outcomes); the run reports the stop once all have.
        let stopped = try await withThrowingTaskGroup(of: Bool.self) { group -> Bool in
            for job in jobs {
                let done = committed[job.name] ?? []
                let remaining = samples.filter { !done.contains($0.id) }
                let alreadyDone = samples.count - remaining.count
                let firstBatch = (lastBatch[job.name] ?? 0) + 1
                group.addTask {
                    try await runDetector(job, samples: remaining, alreadyDone: alreadyDone, total: samples.count, firstBatch: firstBatch,
                                          store: store, ledger: ledger, runID: runID, observer: observer, shouldStop: shouldStop,
                                          globalPositions: globalPositions)
                }
            }
            var any = false
            for try await early in group where early { any = true }
            return any
        }
        if stopped { throw RunnerError.stopped }
    }

    static func runDetector(_ job: DetectorJob, samples: [PlannedSample], alreadyDone: Int, total: Int, firstBatch: Int,
                            store: MediaStore, ledger: any OutcomeLedger, runID: String, observer: any RunObserver,
                            shouldStop: (@Sendable () -> Bool)? = nil, globalPositions: [String: Int]? = nil) async throws -> Bool {
        var done = alreadyDone
        observer.handle(.detector(job.name, done: done, total: total))
        guard !samples.isEmpty else { return false }
        // Samples the runner could not read get their `skipped` outcome at once.
        let skipped = samples.filter { $0.skipReason != nil }
        if !skipped.isEmpty {
            try await ledger.commit(runID: runID, outcomes: skipped.map {
                DetectorOutcome(sampleID: $0.id, detector: job.name, status: .skipped, error: $0.skipReason)
            })
            done += skipped.count
            observer.handle(.detector(job.name, done: done, total: total))
        }
        let usable = samples.filter { $0.skipReason == nil }
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
            try await ledger.commit(runID: runID, outcomes: usable.map {
                DetectorOutcome(sampleID: $0.id, detector: job.name, status: .error, error: reason)
            })
            observer.handle(.detector(job.name, done: total, total: total))
            return false
        }

        let batches = globalPositions.map { Self.gridBatches(usable, batchSize: job.batchSize, positions: $0) }
            ?? Self.batches(usable, batchSize: job.batchSize, firstBatch: firstBatch)
        for (index, (batchNumber, batch)) in batches.enumerated() {
            let last = index == batches.count - 1
            var outcomes: [DetectorOutcome] = []
            let handled = batch.filter { modalities.contains($0.modality) }
            for s in batch where !modalities.contains(s.modality) {
                outcomes.append(DetectorOutcome(sampleID: s.id, detector: job.name, status: .skipped,
                                                error: "detector does not handle \(s.modality.rawValue)", batch: batchNumber))
            }
            if !handled.isEmpty {
                let inputs = handled.map { DetectorInput(sampleID: $0.id, path: store.absolutePath($0.mediaPath), modality: $0.modality, seed: $0.seed) }
                let clock = ContinuousClock()
                let began = clock.now
                let results = await adapter.predict(inputs)
                let elapsed = clock.now - began
                let perSample = (Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15) / Double(inputs.count)
                for (i, sample) in handled.enumerated() {
                    let result = i < results.count ? results[i] : .failure(.error, "detector adapter returned \(results.count) results for \(inputs.count) inputs")
                    outcomes.append(DetectorOutcome(sample: sample.id, detector: job.name, result: result, latencyMs: perSample, batch: batchNumber))
                }
            }
            FaultInjection.reach(.batchPredicted)
            try await ledger.commit(runID: runID, outcomes: outcomes)
            FaultInjection.reach(.batchCommitted)
            done += batch.count
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

    /// Consecutive batches of `batchSize`, numbered on from `firstBatch`.
    static func batches(_ samples: [PlannedSample], batchSize: Int, firstBatch: Int) -> [(number: Int, samples: [PlannedSample])] {
        stride(from: 0, to: samples.count, by: max(1, batchSize)).enumerated().map { i, start in
            (firstBatch + i, Array(samples[start..<min(start + max(1, batchSize), samples.count)]))
        }
    }

    /// A shard's batches on the unsharded run's grid: sample at usable position p belongs to batch
    /// p / batchSize + 1 of the whole plan, so batch numbers (and which samples share a batch) are
    /// those an unsharded run gives, cut only where a shard's range begins or ends.
    static func gridBatches(_ samples: [PlannedSample], batchSize: Int, positions: [String: Int]) -> [(number: Int, samples: [PlannedSample])] {
        var result: [(number: Int, samples: [PlannedSample])] = []
        for s in samples {
            let number = (positions[s.id] ?? 0) / max(1, batchSize) + 1
            if let lastNumber = result.last?.number, lastNumber == number {
                result[result.count - 1].samples.append(s)
            } else {
                result.append((number, [s]))
            }
        }
        return result
    }
}
