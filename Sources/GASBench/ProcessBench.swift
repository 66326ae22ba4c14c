import Foundation
import GASCore
import GASDetectors

/// Process detector overhead: the no-op Python detector (`example_detector.py --noop`) over the
/// process protocol at batch size 64, through gascli's ProcessDetector, against a minimal Python
/// client driving the same detector (Benchmarks/python/process_client.py).
enum ProcessBench {
    static let batchSize = 64

    static func run(_ options: BenchOptions) async throws -> BenchResult {
        let samples = options.scaled(200_000, minimum: batchSize * 10)
        let detector = ProcessDetector(config: ProcessDetectorConfig(
            name: "noop", command: [options.python, options.noopDetector, "--noop"], requiredModalities: [.image]))
        options.log("process: starting the no-op detector")
        _ = try await detector.start()
        // The items gascli sends for stored media: a sample id, a media path, the modality, a seed.
        let inputs = (0..<samples).map { i in
            DetectorInput(sampleID: String(format: "%024x", UInt64(i) &* 2_654_435_761), path: "/tmp/gascli-bench/media/\(i).png",
                          modality: .image, seed: UInt64(1_234_567 + i % batchSize))
        }
        options.log("process: \(samples) samples in batches of \(batchSize)")
        var answered = 0
        let clock = ContinuousClock()
        let began = clock.now
        var start = 0
        while start < inputs.count {
            let batch = Array(inputs[start..<min(start + batchSize, inputs.count)])
            let results = await detector.predict(batch)
            for r in results { if case .probabilities = r { answered += 1 } }
            start += batch.count
        }
        let seconds = Stopwatch.seconds(clock.now - began)
        await detector.stop()
        let rate = Double(samples) / seconds

        options.log("process: Python reference client")
        let ref = try PythonReference.run("process_client.py", [options.python, options.noopDetector, String(samples), String(batchSize)],
                                          options: options)
        let refRate = ref["samples_per_second"] as? Double
        let perSample = seconds / Double(samples) * 1e6
        return BenchResult(
            name: "process", title: "no-op Python detector over the process protocol, \(samples.formattedRows) samples, batch size \(batchSize)",
            ours: rate, unit: "samples/s", reference: refRate, referenceName: "minimal Python client, same detector",
            target: "≥ 20,000 samples/s", passed: rate >= 20_000 && answered == samples,
            notes: [String(format: "%.1f µs per sample end to end (runner + pipes + the detector's own JSON work)", perSample),
                    "\(answered) of \(samples) answered"])
    }
}
