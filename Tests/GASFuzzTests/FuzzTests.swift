import Foundation
import GASFuzz
import Testing
import GASTestSupport

/// The bounded fuzzing run of CI: every target, from its committed seeds, a fixed number of
/// seeded mutations. Each input must be accepted or refused with the reader's own error, with a
/// message, within a time bound, and the process's peak memory must stay bounded.
/// Longer sessions: `swift run -c release --scratch-path .build-release gas-fuzz all --seconds 600`.
@Suite("Fuzzing (bounded CI run)", .serialized)
struct FuzzTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzCorpus").path

    /// Mutated inputs per target in CI, sized so all targets together take under a minute of one
    /// core in a debug build (the rest of the suite's timing tests share the two cores).
    /// GAS_FUZZ_RUNS overrides it (e.g. 0 to run only the seeds).
    static let runs: [String: Int] = [
        "yaml": 2_000, "parquet": 1_500, "archive": 1_500, "safetensors": 15_000,
        "detector-replies": 10_000, "epistula": 10_000, "delivery": 10_000, "outcome-batch": 10_000,
    ]

    @Test("inputs are accepted or rejected with a typed error, quickly and in bounded memory",
          arguments: FuzzTargets.all.map(\.name))
    func fuzz(target name: String) async throws {
        // A minute of CPU per target: on its own thread, not the cooperative pool that the
        // suite's async tests (loopback servers with signed, time-bounded requests) wait on.
        try await offPool { try Self().fuzzBody(target: name) }
    }

    func fuzzBody(target name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        let loaded = FuzzCorpus.load(target: name, root: Self.corpus)
        #expect(!loaded.seeds.isEmpty, "no seeds for \(name) in \(Self.corpus)")
        let extra = ProcessInfo.processInfo.environment["GAS_FUZZ_RUNS"].flatMap(Int.init) ?? Self.runs[name] ?? 1_000
        let seeds = loaded.seeds + loaded.regressions.map(\.bytes)
        var fuzzer = Fuzzer(target: target, seeds: seeds, seed: 34, slowSeconds: 5)
        let report = fuzzer.run(executions: seeds.count + extra, seconds: 90)
        FuzzTargets.removeScratch()
        print(String(format: "fuzz %@: %d inputs in %.1f s, %d accepted, %d rejected, %d distinct rejections, slowest %.3f s, peak memory +%.0f MiB",
                     name, report.executions, report.seconds, report.accepted, report.rejected, report.distinctRejections,
                     report.slowestSeconds, Double(report.peakMemoryGrowthBytes) / 1_048_576))
        for finding in report.findings.prefix(5) {
            Issue.record("\(name): \(finding); input (base64): \(Data(finding.input.prefix(4096)).base64EncodedString())")
        }
        #expect(report.findings.isEmpty)
        #expect(report.executions > seeds.count, "the mutator ran")
        #expect(report.peakMemoryGrowthBytes < 512 << 20, "peak memory grew by \(report.peakMemoryGrowthBytes >> 20) MiB")
    }

    @Test("every seed and every kept regression input is handled", arguments: FuzzTargets.all.map(\.name))
    func replay(target name: String) throws {
        let target = try #require(FuzzTargets.named(name))
        let loaded = FuzzCorpus.load(target: name, root: Self.corpus)
        for input in loaded.regressions {
            let start = Date()
            let outcome = target.run(input.bytes)
            if case let .untypedError(detail) = outcome { Issue.record("\(name)/regressions/\(input.name): \(detail)") }
            #expect(Date().timeIntervalSince(start) < 5, "\(name)/regressions/\(input.name) is slow")
        }
        // Valid seeds are read (the near-misses among them are named *-bad-*).
        var accepted = 0
        for bytes in loaded.seeds where target.run(bytes) == .accepted { accepted += 1 }
        #expect(accepted > 0, "no seed of \(name) is accepted: the target is not reading them")
        FuzzTargets.removeScratch()
    }

    @Test("the mutator is deterministic: the same seed gives the same inputs")
    func deterministic() throws {
        let target = FuzzTarget(name: "echo", summary: "") { _ in .accepted }
        var inputs: [[[UInt8]]] = [[], []]
        for k in 0..<2 {
            var fuzzer = Fuzzer(target: target, seeds: [Array("version: 1\nround: {name: x}\n".utf8)], seed: 99)
            _ = fuzzer.run(executions: 200) { inputs[k].append($0) }
        }
        #expect(inputs[0] == inputs[1])
        #expect(Set(inputs[0]).count > 150, "mutations differ from each other")
    }

    @Test("an untyped error, an empty message and a slow input are findings")
    func findingsAreReported() {
        let target = FuzzTarget(name: "bad", summary: "") { bytes in
            if bytes.first == 1 { return .untypedError("DecodingError") }
            if bytes.first == 2 { return .rejected("  ") }
            if bytes.first == 3 {  // busy for 0.05 s of CPU (slowness is CPU time, not waiting)
                let t0 = Fuzzer.threadCPUSeconds()
                var x = 0.0
                while Fuzzer.threadCPUSeconds() - t0 < 0.05 { x += 1 }
                if x < 0 { return .accepted }
            }
            return .rejected("fine \(bytes.count)")
        }
        var fuzzer = Fuzzer(target: target, seeds: [[1], [2], [3], [4]], seed: 1, slowSeconds: 0.02)
        let report = fuzzer.run(executions: 4)
        #expect(report.findings.map(\.kind) == [.untypedError, .emptyMessage, .slow])
    }
}
