import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs an external program (a sink command, a metagraph command) with its own process group,
/// input on stdin, and a hard timeout after which the whole group is killed with SIGKILL, so a
/// hanging program (or anything it started) never hangs the service.
public enum BoundedCommand {
    public struct Result: Sendable {
        public var status: Int32?
        public var signal: Int32?
        public var timedOut: Bool
        public var stdout: String
        public var stderr: String
        public var seconds: Double

        public var succeeded: Bool { !timedOut && status == 0 }

        /// "exited with status 2: <stderr tail>", "timed out after 5s and was killed".
        public func describe(timeout: Double) -> String {
            if timedOut { return "timed out after \(Self.format(timeout)) and was killed (SIGKILL to its process group)" }
            let tail = stderr.trimmingCharacters(in: .whitespacesAndNewlines).suffix(300)
            let how = signal.map { "was killed by signal \($0)" } ?? "exited with status \(status ?? -1)"
            return tail.isEmpty ? how : "\(how): \(tail)"
        }

        static func format(_ s: Double) -> String { s == s.rounded() ? "\(Int(s))s" : String(format: "%.2fs", s) }
    }

    public struct LaunchError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Output beyond this is dropped (the program keeps running; its pipe keeps draining).
    static let outputLimit = 1 << 20

    public static func run(_ argv: [String], stdin: Data = Data(), environment: [String: String] = [:],
                           workingDirectory: String? = nil, timeout: Double) async throws -> Result {
        try await withCheckedThrowingContinuation { cont in
            Thread.detachNewThread {
                do { cont.resume(returning: try runBlocking(argv, stdin: stdin, environment: environment, workingDirectory: workingDirectory, timeout: timeout)) } catch {
                    cont.resume(throwing: error)
                }
            }
        }
    }

    static func runBlocking(_ argv: [String], stdin: Data, environment: [String: String], workingDirectory: String?,
                            timeout: Double) throws -> Result {
        guard let program = argv.first else { throw LaunchError(description: "no program given") }
        let executable = resolve(program, cwd: workingDirectory)
        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
            throw LaunchError(description: "cannot create pipes: \(String(cString: strerror(errno)))")
        }
        for fd in [inPipe[1], outPipe[0], errPipe[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in [inPipe[0], outPipe[1], errPipe[1]] { posix_spawn_file_actions_addclose(&actions, fd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let envStrings = env.map { "\($0.key)=\($0.value)" }

        // posix_spawn has no portable chdir action; run through /bin/sh -c 'cd DIR && exec "$@"'.
        var args = argv
        var path = executable
        if let workingDirectory {
            args = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", workingDirectory, executable] + Array(argv.dropFirst())
            path = "/bin/sh"
        }
        var pid: pid_t = 0
        let cArgs = args.map { strdup($0) } + [nil]
        let cEnv = envStrings.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) }; for p in cEnv { free(p) } }
        let rc = posix_spawn(&pid, path, &actions, &attributes, cArgs, cEnv)
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        guard rc == 0 else {
            close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
            throw LaunchError(description: "cannot start \(program): \(String(cString: strerror(rc)))")
        }
        let began = Date()
        let stdinFD = inPipe[1]
        let child = pid
        let group = DispatchGroup()
        let collected = OutputBox()
        for (fd, isErr) in [(outPipe[0], false), (errPipe[0], true)] {
            group.enter()
            Thread.detachNewThread {
                var data = Data()
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = read(fd, &buffer, buffer.count)
                    if n <= 0 { break }
                    if data.count < outputLimit { data.append(contentsOf: buffer[0..<n]) }
                }
                close(fd)
                collected.set(data, isErr: isErr)
                group.leave()
            }
        }
        Thread.detachNewThread {
            signal(SIGPIPE, SIG_IGN)
            stdin.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(stdinFD, raw.baseAddress! + offset, raw.count - offset)
                    if n <= 0 { break }
                    offset += n
                }
            }
            close(stdinFD)
        }
        let exited = DispatchSemaphore(value: 0)
        let statusBox = OutputBox()
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(child, &status, 0) < 0 && errno == EINTR {}
            statusBox.status = status
            exited.signal()
        }
        var timedOut = false
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            exited.wait()
        }
        // Children that kept the pipes open are in the same group: make sure they are gone too.
        kill(-pid, SIGKILL)
        _ = group.wait(timeout: .now() + 5)
        let s = statusBox.status ?? 0
        let signaled = s & 0x7F != 0
        return Result(status: signaled ? nil : (s >> 8) & 0xFF, signal: signaled ? s & 0x7F : nil, timedOut: timedOut,
                      stdout: String(decoding: collected.out, as: UTF8.self), stderr: String(decoding: collected.err, as: UTF8.self),
                      seconds: Date().timeIntervalSince(began))
    }

    static func resolve(_ program: String, cwd: String?) -> String {
        if program.contains("/") {
            if program.hasPrefix("/") { return program }
            return ((cwd ?? FileManager.default.currentDirectoryPath) as NSString).appendingPathComponent(program)
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return program
    }
}

private final class OutputBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _out = Data(), _err = Data(), _status: Int32?
    func set(_ d: Data, isErr: Bool) { lock.lock(); if isErr { _err = d } else { _out = d }; lock.unlock() }
    var out: Data { lock.lock(); defer { lock.unlock() }; return _out }
    var err: Data { lock.lock(); defer { lock.unlock() }; return _err }
    var status: Int32? {
        get { lock.lock(); defer { lock.unlock() }; return _status }
        set { lock.lock(); _status = newValue; lock.unlock() }
    }
}
