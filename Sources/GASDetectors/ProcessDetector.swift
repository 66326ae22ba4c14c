import Dispatch
import GASCore

#if canImport(Glibc)
import Glibc
#endif

/// Settings of one process detector. Times are in seconds.
public struct ProcessDetectorConfig: Sendable, Equatable {
    /// Name used in messages and logs.
    public var name: String
    /// argv of the detector; the first element is looked up on PATH unless it contains a slash.
    public var command: [String]
    /// Working directory of the detector; nil keeps the runner's.
    public var workingDirectory: String?
    /// Added to (and overriding) the runner's environment.
    public var environment: [String: String]
    /// Modalities the run needs; `start()` fails unless the hello offers all of them.
    public var requiredModalities: [Modality]
    /// How long one `predict` call waits for its response.
    public var batchTimeout: Double
    /// How long the runner waits for the hello line after starting the process.
    public var startupTimeout: Double
    /// How many times a crashed, hung or misbehaving detector is started again.
    public var maxRestarts: Int
    /// Longest accepted stdout line, in bytes; longer lines are protocol violations.
    public var maxLineBytes: Int
    /// If set, the detector's stderr is appended to this file.
    public var stderrLogPath: String?
    /// Upper bound on what is written to `stderrLogPath`, over all restarts.
    public var stderrLogMaxBytes: Int
    /// How much recent stderr is kept in memory per process (for error messages).
    public var stderrRingBytes: Int
    /// After `{"shutdown": true}` and closing stdin, how long to wait before SIGTERM.
    public var shutdownGracePeriod: Double
    /// The child's address-space limit (RLIMIT_AS), in bytes; nil leaves it unlimited.
    public var memoryLimitBytes: Int?

    public init(name: String,
                command: [String],
                workingDirectory: String? = nil,
                environment: [String: String] = [:],
                requiredModalities: [Modality] = [],
                batchTimeout: Double = 120,
                startupTimeout: Double = 60,
                maxRestarts: Int = 2,
                maxLineBytes: Int = 8 * 1024 * 1024,
                stderrLogPath: String? = nil,
                stderrLogMaxBytes: Int = 16 * 1024 * 1024,
                stderrRingBytes: Int = 64 * 1024,
                shutdownGracePeriod: Double = 5,
                memoryLimitBytes: Int? = nil) {
        self.name = name
        self.command = command
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.requiredModalities = requiredModalities
        self.batchTimeout = batchTimeout
        self.startupTimeout = startupTimeout
        self.maxRestarts = maxRestarts
        self.maxLineBytes = maxLineBytes
        self.stderrLogPath = stderrLogPath
        self.stderrLogMaxBytes = stderrLogMaxBytes
        self.stderrRingBytes = stderrRingBytes
        self.shutdownGracePeriod = shutdownGracePeriod
        self.memoryLimitBytes = memoryLimitBytes
    }
}

/// A detector that runs as a long-lived child process speaking the JSON-lines protocol
/// described in docs/detector-protocol.md.
///
/// Guarantees: every wait is bounded; `predict` never throws and always returns one result per
/// input; concurrent calls are serialized (one request in flight per process); a detector that
/// crashes, hangs or breaks the protocol is killed (its whole process group) and restarted on the
/// next call while the restart budget lasts, after which every call fails immediately.
public actor ProcessDetector: DetectorAdapter {
    public nonisolated let config: ProcessDetectorConfig

    private var child: ChildProcess?
    private var hello: DetectorHello?
    private var launches = 0
    private var restarts = 0
    private var freeRestart = false
    private var lastFailure: String?
    private var disabledReason: String?
    private var batchCounter = 0
    private var warnings: [String] = []
    private var droppedWarnings = 0
    private var stopping = false
    private var stopped = false
    private let stderrLog: StderrLogFile?
    private var lastTail = ""

    // FIFO gate: one protocol exchange at a time.
    private var busy = false
    private var gateWaiters: [CheckedContinuation<Void, Never>] = []

    private static let maxWarnings = 1000

    public init(config: ProcessDetectorConfig) {
        self.config = config
        if let path = config.stderrLogPath {
            let log = StderrLogFile(path: path, maxBytes: config.stderrLogMaxBytes)
            stderrLog = log
            if let e = log.openError { warnings.append(e) }
        } else {
            stderrLog = nil
        }
    }

    deinit {
        if let c = child {
            c.forceKill()
            c.detach()
        }
    }

    // MARK: DetectorAdapter

    public func start() async throws -> DetectorHello {
        try validateConfig()
        await acquire()
        defer { release() }
        if let c = child, c.exitStatus == nil, let h = hello { return h }
        if let c = child { retire(c) }
        stopped = false
        let (c, h) = try await launchAndHandshake()
        child = c
        hello = h
        return h
    }

    public func predict(_ batch: [DetectorInput]) async -> [DetectorResult] {
        if batch.isEmpty { return [] }
        await acquire()
        defer { release() }
        if stopped {
            return Array(repeating: .failure(.error, "detector '\(config.name)' was stopped"), count: batch.count)
        }
        if let problem = configProblem() {
            return Array(repeating: .failure(.error, problem), count: batch.count)
        }
        let c: ChildProcess
        switch await ensureChild() {
        case .success(let running): c = running
        case .failure(let message):
            return Array(repeating: .failure(.error, message.text), count: batch.count)
        }
        batchCounter += 1
        let b = batchCounter
        c.send(DetectorProtocol.encodeRequest(batch: b, items: batch))

        let deadline = DispatchTime.now().uptimeNanoseconds + nanos(config.batchTimeout)
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            let remaining = now >= deadline ? 0 : Double(deadline - now) / 1e9
            switch await c.stdout.next(timeout: remaining) {
            case .event(.line(let line)):
                if DetectorProtocol.isBlank(line) { continue }
                let message: DetectorProtocol.Message
                do {
                    message = try DetectorProtocol.decode(line)
                } catch {
                    return fail(batch, c, .error, error.description)
                }
                switch message {
                case let .response(rb, results):
                    if rb != b {
                        warn("ignored a response for batch \(rb) while waiting for batch \(b)")
                        continue
                    }
                    let (results, w) = DetectorProtocol.assign(results: results, to: batch, batch: b)
                    for x in w { warn(x) }
                    return results
                case .hello:
                    return fail(batch, c, .error, ProtocolViolation("unexpected hello while waiting for batch \(b)", line: line).description)
                }
            case let .event(.overflow(limit, prefix)):
                return fail(batch, c, .error, ProtocolViolation("stdout line longer than \(limit) bytes (maxLineBytes)", line: prefix).description)
            case .event(.eof), .event(.readError):
                let what = await describeDeath(c)
                if stopping {
                    return fail(batch, c, .error, "detector was stopped while processing batch \(b)")
                }
                return fail(batch, c, .error, "detector \(what) while processing batch \(b)\(memoryNote()); last stderr: \(lastTailOrNone())")
            case .timedOut:
                c.forceKill()
                lastTail = c.stderrRing.tail()
                return fail(batch, c, .timeout, "no response within \(formatSeconds(config.batchTimeout)) (batch \(b)); the detector was killed; last stderr: \(lastTailOrNone())")
            case .cancelled:
                let text = stopping ? "detector was stopped while processing batch \(b)" : "cancelled while waiting for batch \(b)"
                return fail(batch, c, .error, text, countsAgainstBudget: false)
            }
        }
    }

    public func stop() async {
        stopping = true
        if busy, let c = child { c.forceKill() }  // interrupt an in-flight batch; it reports "stopped"
        await acquire()
        defer {
            stopping = false
            release()
        }
        stopped = true
        guard let c = child else { return }
        child = nil
        hello = nil
        c.send(DetectorProtocol.shutdownLine)
        c.closeStdin()
        if await c.waitForExit(timeout: config.shutdownGracePeriod) == nil {
            stderrLog?.note("detector pid \(c.pid) did not exit within \(formatSeconds(config.shutdownGracePeriod)) of shutdown; sending SIGTERM")
            c.signal(SIGTERM)
            if await c.waitForExit(timeout: 2) == nil {
                stderrLog?.note("detector pid \(c.pid) ignored SIGTERM; sending SIGKILL")
                c.signal(SIGKILL)
                _ = await c.waitForExit(timeout: 5)
            }
        }
        c.signal(SIGKILL)  // anything the detector left behind in its process group
        await c.waitForStderr(timeout: 0.5)
        lastTail = c.stderrRing.tail()
        c.detach()
    }

    // MARK: Introspection

    /// Warnings collected since the last call (unknown or duplicate result ids, stray responses…).
    public func drainWarnings() -> [String] {
        var out = warnings
        if droppedWarnings > 0 { out.append("\(droppedWarnings) more warning(s) were dropped") }
        warnings = []
        droppedWarnings = 0
        return out
    }

    /// The pid of the running detector process (also its process group id), if any.
    public var processID: Int32? { child?.pid }

    /// How many restarts have been used.
    public var restartCount: Int { restarts }

    /// Why the detector is disabled, once its restart budget is used up.
    public var disabledMessage: String? { disabledReason }

    /// The hello of the running process.
    public var currentHello: DetectorHello? { hello }

    /// The last lines the current (or last) detector process wrote to stderr.
    public func stderrTail(lines: Int = 5) -> String {
        if let c = child { return c.stderrRing.tail(lines: lines) }
        return lastTail
    }

    /// Bytes of stderr currently held in memory for the running process (bounded by `stderrRingBytes`).
    public var stderrBytesInMemory: Int { child?.stderrRing.count ?? 0 }

    /// Bytes of stderr the running process has written in total.
    public var stderrBytesSeen: Int { child?.stderrRing.totalBytes ?? 0 }

    // MARK: Internals

    private struct Message: Error { var text: String }

    private func ensureChild() async -> Result<ChildProcess, Message> {
        if let c = child {
            if c.exitStatus == nil { return .success(c) }
            // Died between batches.
            let what = await describeDeath(c)
            lastFailure = "detector \(what) between batches\(memoryNote()); last stderr: \(lastTailOrNone())"
            retire(c)
        }
        if let d = disabledReason { return .failure(Message(text: d)) }
        if launches > 0 {
            if freeRestart {
                freeRestart = false
            } else {
                if restarts >= config.maxRestarts {
                    let n = restarts
                    disabledReason = "detector disabled after \(n) restart\(n == 1 ? "" : "s"): \(lastFailure ?? "it failed")"
                    stderrLog?.note(disabledReason!)
                    return .failure(Message(text: disabledReason!))
                }
                restarts += 1
            }
        }
        do {
            let (c, h) = try await launchAndHandshake()
            child = c
            hello = h
            return .success(c)
        } catch {
            lastFailure = "restart failed: \(error)"
            return .failure(Message(text: "could not start detector: \(error)"))
        }
    }

    private func launchAndHandshake() async throws -> (ChildProcess, DetectorHello) {
        let name = config.name
        launches += 1
        let c: ChildProcess
        do {
            c = try ChildProcess.launch(command: config.command, workingDirectory: config.workingDirectory,
                                        environment: config.environment, maxLineBytes: config.maxLineBytes,
                                        stderrRingBytes: config.stderrRingBytes, stderrLog: stderrLog,
                                        memoryLimitBytes: config.memoryLimitBytes)
        } catch {
            throw DetectorError.launchFailed(name: name, command: config.command, reason: error.reason)
        }
        let deadline = DispatchTime.now().uptimeNanoseconds + nanos(config.startupTimeout)
        func abandon() {
            c.forceKill()
            lastTail = c.stderrRing.tail()
            c.detach()
        }
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            let remaining = now >= deadline ? 0 : Double(deadline - now) / 1e9
            switch await c.stdout.next(timeout: remaining) {
            case .event(.line(let line)):
                if DetectorProtocol.isBlank(line) { continue }
                let message: DetectorProtocol.Message
                do {
                    message = try DetectorProtocol.decode(line)
                } catch {
                    abandon()
                    throw DetectorError.protocolViolation(name: name, detail: error.description)
                }
                guard case let .hello(h, unknown) = message else {
                    abandon()
                    throw DetectorError.protocolViolation(
                        name: name, detail: ProtocolViolation("a response arrived before the hello line", line: line).description)
                }
                guard h.protocolVersion == DetectorProtocol.version else {
                    abandon()
                    throw DetectorError.unsupportedProtocol(name: name, version: h.protocolVersion)
                }
                let missing = config.requiredModalities.filter { !h.modalities.contains($0) }
                guard missing.isEmpty else {
                    abandon()
                    throw DetectorError.missingModalities(name: name, required: config.requiredModalities, offered: h.modalities)
                }
                if !unknown.isEmpty {
                    warn("detector '\(name)' announced unknown modalities \(unknown) (ignored)")
                }
                return (c, h)
            case let .event(.overflow(limit, prefix)):
                abandon()
                throw DetectorError.protocolViolation(
                    name: name, detail: ProtocolViolation("stdout line longer than \(limit) bytes (maxLineBytes)", line: prefix).description)
            case .event(.eof), .event(.readError):
                let what = await describeDeath(c)
                c.detach()
                throw DetectorError.exitedDuringStartup(name: name, status: what, stderrTail: lastTail)
            case .timedOut:
                abandon()
                throw DetectorError.startupTimeout(name: name, seconds: config.startupTimeout, stderrTail: lastTail)
            case .cancelled:
                abandon()
                throw CancellationError()
            }
        }
    }

    /// After stdout EOF: wait (bounded) for the exit status and the rest of stderr, kill if needed.
    /// Returns e.g. "exited with status 3" and stores the stderr tail in `lastTail`.
    private func describeDeath(_ c: ChildProcess) async -> String {
        let what: String
        if let status = await c.waitForExit(timeout: 2) {
            what = status.description
        } else {
            what = "closed its stdout"
            c.forceKill()
            _ = await c.waitForExit(timeout: 1)
        }
        await c.waitForStderr(timeout: 0.5)
        lastTail = c.stderrRing.tail()
        return what
    }

    /// Fails the whole batch, kills the process and forgets it; the next call restarts it.
    private func fail(_ batch: [DetectorInput], _ c: ChildProcess, _ status: OutcomeStatus, _ text: String,
                      countsAgainstBudget: Bool = true) -> [DetectorResult] {
        lastFailure = text
        retire(c)
        if !countsAgainstBudget { freeRestart = true }
        stderrLog?.note(text)
        return Array(repeating: .failure(status, text), count: batch.count)
    }

    private func retire(_ c: ChildProcess) {
        if c.exitStatus == nil { c.forceKill() }
        c.detach()
        if child === c {
            child = nil
            hello = nil
        }
    }

    private func warn(_ text: String) {
        if warnings.count < Self.maxWarnings { warnings.append(text) } else { droppedWarnings += 1 }
    }

    /// ": it ran out of its memory limit of N MiB (limits.memory_mb)" when a limit is set and the
    /// last stderr shows a failed allocation, so the outcome says why rather than only "exited".
    private func memoryNote() -> String {
        guard let limit = config.memoryLimitBytes else { return "" }
        let signs = ["MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory", "Out of memory", "memory allocation failed"]
        guard signs.contains(where: { lastTail.contains($0) }) else { return "" }
        return ": it ran out of its memory limit of \(limit / 1_048_576) MiB (limits.memory_mb; raise it if the detector needs more)"
    }

    private func lastTailOrNone() -> String { lastTail.isEmpty ? "(nothing)" : lastTail }

    private func configProblem() -> String? {
        if config.batchTimeout.isNaN || config.batchTimeout <= 0 { return "batchTimeout must be positive" }
        if config.startupTimeout.isNaN || config.startupTimeout <= 0 { return "startupTimeout must be positive" }
        if config.maxLineBytes < 64 { return "maxLineBytes must be at least 64" }
        if config.maxRestarts < 0 { return "maxRestarts must not be negative" }
        return nil
    }

    private func validateConfig() throws {
        if let p = configProblem() { throw DetectorError.invalidConfiguration(name: config.name, reason: p) }
    }

    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { gateWaiters.append($0) }
    }

    private func release() {
        if gateWaiters.isEmpty {
            busy = false
        } else {
            gateWaiters.removeFirst().resume()
        }
    }

    private nonisolated func nanos(_ seconds: Double) -> UInt64 {
        seconds >= 1e9 ? UInt64(1e18) : UInt64(max(0, seconds) * 1e9)
    }
}
