import ArgumentParser
import Foundation
import GASFuzz

#if canImport(Glibc)
import Glibc
#endif

/// Long fuzzing sessions outside `swift test`: the same targets, mutator and seed corpora as the
/// bounded CI run, for as long as you like, with a memory cap and crash/hang capture.
@main
struct GASFuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gas-fuzz",
        abstract: "Fuzz gascli's input readers from the committed seed corpora.",
        discussion: """
        Targets: \(FuzzTargets.all.map { $0.name }.joined(separator: ", ")), or 'all'.
        A finding (an untyped error, an input slower than --slow-seconds, a hang, a crash or an
        allocation beyond --max-memory-mb) is saved under --findings; add it to
        Tests/FuzzCorpus/<target>/regressions/ once fixed.

        Example:
          swift run -c release --scratch-path .build-release gas-fuzz all --seconds 600
          swift run -c release --scratch-path .build-release gas-fuzz yaml --seconds 60 --seed 7
        """)

    @Argument(help: "Target name, or 'all'.")
    var target: String

    @Option(help: "Seconds per target.")
    var seconds: Double = 60

    @Option(help: "Stop a target after this many inputs (default: only the time limit).")
    var runs: Int?

    @Option(help: "Seed of the mutator (the same seed replays the same inputs).")
    var seed: UInt64 = 1

    @Option(help: "Folder with one subfolder of seed inputs per target.")
    var corpus = "Tests/FuzzCorpus"

    @Option(help: "Where findings are written.")
    var findings = "fuzz-findings"

    @Option(help: "Address-space cap in MiB above the starting size: an allocation beyond it aborts and is saved as a finding.")
    var maxMemoryMb = 2048

    @Option(help: "One input slower than this is reported.")
    var slowSeconds: Double = 1

    @Option(help: "One input slower than this is a hang: the input is saved and the process stops.")
    var hangSeconds: Double = 20

    func run() throws {
        let targets = target == "all" ? FuzzTargets.all : FuzzTargets.named(target).map { [$0] } ?? []
        guard !targets.isEmpty else {
            throw ValidationError("unknown target '\(target)'; choose one of \(FuzzTargets.all.map(\.name).joined(separator: ", ")) or all")
        }
        try FileManager.default.createDirectory(atPath: findings, withIntermediateDirectories: true)
        CrashCapture.install(maxInputBytes: 1 << 20)
        capAddressSpace(extraMiB: maxMemoryMb)
        var total = 0
        var findingCount = 0
        print("target            executions   exec/s  accepted  rejected  distinct  corpus  slowest  peak-mem+  findings")
        for t in targets {
            let loaded = FuzzCorpus.load(target: t.name, root: corpus)
            guard !loaded.seeds.isEmpty else {
                throw ValidationError("no seed inputs in \(corpus)/\(t.name)/seeds; run from the repository root or pass --corpus")
            }
            let seeds = loaded.seeds + loaded.regressions.map(\.bytes)
            CrashCapture.arm(path: findings + "/\(t.name)-crash.bin", target: t.name)
            let watchdog = Watchdog(limit: hangSeconds, path: findings + "/\(t.name)-hang.bin", target: t.name)
            var fuzzer = Fuzzer(target: t, seeds: seeds, seed: seed, slowSeconds: slowSeconds)
            let report = fuzzer.run(executions: runs ?? .max, seconds: seconds, watchdog: watchdog) { CrashCapture.record($0) }
            for (i, f) in report.findings.enumerated() {
                let path = findings + "/\(t.name)-\(f.kind == .slow ? "slow" : "error")-\(i).bin"
                try Data(f.input).write(to: URL(fileURLWithPath: path))
                print("  finding: \(f) -> \(path)")
            }
            total += report.executions
            findingCount += report.findings.count
            print(String(format: "%@ %11d %8.0f %9d %9d %9d %7d %7.3fs %8.0fM %9d", t.name.padding(toLength: 16, withPad: " ", startingAt: 0) as NSString, report.executions,
                         Double(report.executions) / max(report.seconds, 0.001), report.accepted, report.rejected,
                         report.distinctRejections, report.corpusSize, report.slowestSeconds,
                         Double(report.peakMemoryGrowthBytes) / 1_048_576, report.findings.count))
        }
        print("\(total) inputs, \(findingCount) findings")
        if findingCount > 0 { throw ExitCode(1) }
    }

    /// RLIMIT_AS at the current address-space size plus `extraMiB`: one input that tries to
    /// allocate more fails its allocation, the runtime aborts, and CrashCapture saves the input.
    func capAddressSpace(extraMiB: Int) {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmSize:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first { !$0.isEmpty } ?? "") else { return }
        let bytes = rlim_t((kb + extraMiB * 1024) * 1024)
        var limit = rlimit(rlim_cur: bytes, rlim_max: bytes)
        setrlimit(Int32(RLIMIT_AS.rawValue), &limit)
    }
}

/// Writes the input being run to a file when the process dies of a signal (a trap on overflow,
/// an allocation failure under the memory cap, a stack overflow), using only async-signal-safe calls.
enum CrashCapture {
    nonisolated(unsafe) static var buffer: UnsafeMutablePointer<UInt8>? = nil
    nonisolated(unsafe) static var capacity = 0
    nonisolated(unsafe) static var length = 0
    nonisolated(unsafe) static var path: UnsafeMutablePointer<CChar>? = nil
    nonisolated(unsafe) static var message: UnsafeMutablePointer<CChar>? = nil

    static func install(maxInputBytes: Int) {
        capacity = maxInputBytes
        buffer = .allocate(capacity: maxInputBytes)
        // An alternate stack, so a stack overflow can still run the handler.
        let stackSize = 1 << 16
        var stack = stack_t(ss_sp: UnsafeMutableRawPointer.allocate(byteCount: stackSize, alignment: 16), ss_flags: 0, ss_size: stackSize)
        sigaltstack(&stack, nil)
        for sig in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                if let path = CrashCapture.path, let buffer = CrashCapture.buffer {
                    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                    if fd >= 0 { _ = write(fd, buffer, CrashCapture.length); close(fd) }
                    if let message = CrashCapture.message { _ = write(2, message, strlen(message)) }
                }
                signal(sig, SIG_DFL)
                raise(sig)
            }
            action.sa_flags = Int32(SA_ONSTACK)
            sigaction(sig, &action, nil)
        }
    }

    static func arm(path newPath: String, target: String) {
        free(path)
        free(message)
        path = strdup(newPath)
        message = strdup("gas-fuzz: \(target): the process died on an input; it is saved in \(newPath)\n")
    }

    static func record(_ input: [UInt8]) {
        guard let buffer else { return }
        let n = min(input.count, capacity)
        input.withUnsafeBufferPointer { src in if let base = src.baseAddress { buffer.update(from: base, count: n) } }
        length = n
    }
}
