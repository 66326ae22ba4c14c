import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a benchmark could not run (a missing Python, a reference that failed).
public struct BenchError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Settings shared by every benchmark of one `gascli bench` invocation.
public struct BenchOptions: Sendable {
    /// Multiplies every benchmark's size (1 = the sizes the targets are stated for).
    public var scale: Double
    /// Python with pyarrow and numpy for the references (the project's `.venv/bin/python`).
    public var python: String
    /// Folder with the reference scripts (`Benchmarks/python`).
    public var scripts: String
    /// The no-op process detector (`examples/detectors/example_detector.py`, run with `--noop`).
    public var noopDetector: String
    /// This gascli, run as a child process for the end-to-end benchmark.
    public var executable: String
    /// Scratch folder (removed afterwards unless `keep`).
    public var workDirectory: String
    public var keep: Bool
    /// Progress lines (stderr in the CLI).
    public var log: @Sendable (String) -> Void

    public init(scale: Double = 1, python: String, scripts: String, noopDetector: String, executable: String,
                workDirectory: String, keep: Bool = false, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.scale = scale
        self.python = python
        self.scripts = scripts
        self.noopDetector = noopDetector
        self.executable = executable
        self.workDirectory = workDirectory
        self.keep = keep
        self.log = log
    }

    /// `n` scaled, at least `minimum`.
    func scaled(_ n: Int, minimum: Int = 1) -> Int { max(minimum, Int((Double(n) * scale).rounded())) }
}

enum Stopwatch {
    /// Seconds `body` takes.
    static func time(_ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        let began = clock.now
        try body()
        return seconds(clock.now - began)
    }

    /// Wall and CPU seconds (user + system, every thread of this process) `body` takes. On a
    /// shared machine the CPU time is the figure other processes do not distort.
    static func measure(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
        let cpu0 = processCPUSeconds()
        let wall = try time(body)
        return (wall, processCPUSeconds() - cpu0)
    }

    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }

    /// The 1-minute load average (how busy the machine was while measuring).
    static func loadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first, let value = Double(first) else { return 0 }
        return value
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

/// A finished child process: exit status, wall time, peak memory, and its output.
struct ChildRun {
    var status: Int32
    var seconds: Double
    /// ru_maxrss of this child alone (wait4), in bytes.
    var maxRSSBytes: Int
    /// User + system CPU seconds of the child.
    var cpuSeconds: Double
    var stdout: String
    var stderr: String
}

enum ChildRunner {
    /// Runs `arguments` (argv[0] a path) with its output in files, waits with wait4 to read the
    /// child's own peak memory. `unset` removes variables from the child's environment.
    static func run(_ arguments: [String], in directory: String, unset: [String] = [], extra: [String: String] = [:]) throws -> ChildRun {
        let out = (directory as NSString).appendingPathComponent("child-\(UUID().uuidString).out")
        let err = out + ".err"
        var environment = ProcessInfo.processInfo.environment
        for name in unset { environment[name] = nil }
        for (k, v) in extra { environment[k] = v }
        let envStrings = environment.map { "\($0.key)=\($0.value)" }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = envStrings.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        let clock = ContinuousClock()
        let began = clock.now
        var pid: pid_t = 0
        let code = posix_spawn(&pid, arguments[0], &actions, nil, argv, envp)
        guard code == 0 else {
            throw BenchError("cannot start \(arguments[0]): \(String(cString: strerror(code)))")
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            if errno != EINTR { throw BenchError("wait4 failed for \(arguments[0]): \(String(cString: strerror(errno)))") }
        }
        let seconds = Stopwatch.seconds(clock.now - began)
        let stdout = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: out)
        try? FileManager.default.removeItem(atPath: err)
        // WIFEXITED / WEXITSTATUS by hand (Swift cannot import the macros).
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return ChildRun(status: exitStatus, seconds: seconds, maxRSSBytes: Int(usage.ru_maxrss) * 1024,
                        cpuSeconds: Stopwatch.seconds(usage.ru_utime) + Stopwatch.seconds(usage.ru_stime), stdout: stdout, stderr: stderr)
    }
}

/// Runs a reference script under `Benchmarks/python` and decodes the JSON object it prints last.
enum PythonReference {
    /// OpenBLAS tuning variables this machine sets that slow numpy down; removed for the references only.
    static let unsetForNumpy = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]

    static func run(_ script: String, _ arguments: [String], options: BenchOptions) throws -> [String: Any] {
        let path = (options.scripts as NSString).appendingPathComponent(script)
        guard FileManager.default.fileExists(atPath: path) else {
            throw BenchError("reference script \(path) is missing; run gascli bench from the repository root or pass --scripts")
        }
        guard FileManager.default.isExecutableFile(atPath: options.python) else {
            throw BenchError("Python \(options.python) not found; create it with ./install.sh --with-test-tools or pass --python")
        }
        let r = try ChildRunner.run([options.python, path] + arguments, in: options.workDirectory, unset: unsetForNumpy)
        guard r.status == 0 else {
            throw BenchError("reference \(script) failed (exit \(r.status)): \(r.stderr.suffix(2000))")
        }
        guard let line = r.stdout.split(separator: "\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw BenchError("reference \(script) printed no JSON result: \(r.stdout.suffix(500)) \(r.stderr.suffix(500))")
        }
        return object
    }
}

/// Deterministic bench data: every run of the suite measures the same rows.
struct BenchRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

enum Hex {
    static let digits = Array("0123456789abcdef".utf8)
    /// `count` hex digits from a 64-bit generator.
    static func string(_ rng: inout BenchRandom, count: Int) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(count)
        while bytes.count < count {
            var v = rng.next()
            for _ in 0..<16 where bytes.count < count {
                bytes.append(digits[Int(v & 15)])
                v >>= 4
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The peak memory of a process, as the process itself sees it: `VmHWM` of /proc/self/status.
///
/// Why not the parent's wait4: Linux counts a child's peak from before its exec, when (spawned
/// with vfork, as posix_spawn does) it still shares the parent's memory, so a benchmark process
/// that held 1.6 GiB of scoring rows reported 1.6 GiB for every child started after. A bench
/// facility, off unless `GASCLI_PEAK_MEMORY_FILE` is set: `gascli run` then writes its peak (bytes)
/// to that file as it ends.
public enum PeakMemory {
    public static let variable = "GASCLI_PEAK_MEMORY_FILE"

    /// This process's peak resident memory in bytes (nil where /proc is missing).
    public static func current() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kB = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return nil }
        return kB * 1024
    }

    /// Writes `current()` to the file named by the variable, when it is set.
    public static func recordIfRequested() {
        guard let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty, let bytes = current() else { return }
        try? String(bytes).write(toFile: path, atomically: true, encoding: .utf8)
    }
}
