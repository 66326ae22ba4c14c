import Foundation
import GASCore

#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended.
enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)
    /// Someone else reaped the child (waitpid said ECHILD).
    case unknown

    init(waitStatus s: Int32) {
        if s & 0x7F == 0 {
            self = .exited((s >> 8) & 0xFF)
        } else {
            self = .signaled(s & 0x7F)
        }
    }

    /// "exited with status 3", "was killed by signal 9 (SIGKILL)".
    var description: String {
        switch self {
        case .exited(let code): return "exited with status \(code)"
        case .signaled(let sig): return "was killed by signal \(sig)\(Self.signalName(sig).map { " (\($0))" } ?? "")"
        case .unknown: return "exited (status unknown)"
        }
    }

    static func signalName(_ sig: Int32) -> String? {
        switch sig {
        case SIGKILL: return "SIGKILL"
        case SIGTERM: return "SIGTERM"
        case SIGSEGV: return "SIGSEGV"
        case SIGABRT: return "SIGABRT"
        case SIGINT: return "SIGINT"
        case SIGBUS: return "SIGBUS"
        case SIGPIPE: return "SIGPIPE"
        case SIGILL: return "SIGILL"
        case SIGFPE: return "SIGFPE"
        case SIGHUP: return "SIGHUP"
        default: return nil
        }
    }
}

/// The glibc functions a child's spawn uses that Swift's Glibc module does not import.
extension GNU {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    static let pipe2: Pipe2? = symbol("pipe2")
    static let addChdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np")
    static let addClosefrom: AddClosefrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
}

/// A running detector child: its pid (leader of its own process group), its stdin writer,
/// its stdout line channel, its stderr ring, and a thread that reaps it.
///
/// Threads per child: stdout reader, stderr reader, stdin writer, waiter. All of them end when the
/// child (and everything holding its pipes) is gone; none of them touches the Swift concurrency pool.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    let stdout: LineChannel
    let stderrRing: StderrRing
    private let stdinWriter: StdinWriter
    private let state = NSCondition()
    private var status: ExitStatus?  // guarded by state
    private var stderrDone = false  // guarded by state

    private init(pid: pid_t, stdinFD: Int32, stdout: LineChannel, stderrRing: StderrRing) {
        self.pid = pid
        self.stdout = stdout
        self.stderrRing = stderrRing
        self.stdinWriter = StdinWriter(fd: stdinFD)
    }

    struct LaunchFailure: Error {
        var reason: String
    }

    /// Starts `command` in its own process group with piped stdin/stdout/stderr.
    static func launch(command: [String], workingDirectory: String?, environment: [String: String],
                       maxLineBytes: Int, stderrRingBytes: Int, stderrLog: StderrLogFile?,
                       memoryLimitBytes: Int? = nil) throws(LaunchFailure) -> ChildProcess {
        guard let program = command.first, !program.isEmpty else {
            throw LaunchFailure(reason: "the command is empty; set it to an argv list such as [\"python3\", \"detector.py\"]")
        }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }

        var cwdForResolution = FileManager.default.currentDirectoryPath
        if let wd = workingDirectory, !wd.isEmpty {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: wd, isDirectory: &isDir) else {
                throw LaunchFailure(reason: "the working directory '\(wd)' does not exist; create it or fix the detector's working directory")
            }
            guard isDir.boolValue else {
                throw LaunchFailure(reason: "the working directory '\(wd)' is not a directory; fix the detector's working directory")
            }
            cwdForResolution = wd.hasPrefix("/") ? wd : cwdForResolution + "/" + wd
        }
        let executable = try resolveExecutable(program, path: env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", cwd: cwdForResolution)

        // Pipes, close-on-exec in this process so that no other child inherits them.
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        func closeAll() { for fd in inPipe + outPipe + errPipe where fd >= 0 { close(fd) } }
        guard makePipe(&inPipe), makePipe(&outPipe), makePipe(&errPipe) else {
            let e = errno
            closeAll()
            throw LaunchFailure(reason: "could not create pipes: \(String(cString: strerror(e))) (too many open files?)")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        if let closefrom = GNU.addClosefrom { _ = closefrom(&actions, 3) }

        var argv = command
        var spawnPath = executable
        var throughShell = false
        if let wd = workingDirectory, !wd.isEmpty {
            if let chdir = GNU.addChdir {
                let rc = wd.withCString { chdir(&actions, $0) }
                if rc != 0 { closeAll(); throw LaunchFailure(reason: "cannot use working directory '\(wd)': \(String(cString: strerror(rc)))") }
            } else {
                // No posix_spawn chdir on this libc: go through the shell.
                argv = ["/bin/sh", "-c", "cd -- \"$0\" && exec \"$@\"", wd, executable] + command.dropFirst()
                spawnPath = "/bin/sh"
                throughShell = true
            }
        }

        // posix_spawn cannot set a resource limit in the child only: a memory limit goes through
        // the shell's `ulimit -v` (RLIMIT_AS), which then execs the detector in place.
        if let bytes = memoryLimitBytes {
            let kib = max(1, bytes / 1024)
            if throughShell {
                argv[2] = "ulimit -v \(kib) && " + argv[2]
            } else {
                argv = ["/bin/sh", "-c", "ulimit -v \(kib) && exec \"$@\"", "sh", spawnPath] + command.dropFirst()
                spawnPath = "/bin/sh"
            }
        }

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setpgroup(&attr, 0)  // own process group, so the whole tree can be killed
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attr, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for sig in [SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU] {
            sigaddset(&defaults, sig)
        }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in cArgv { free(p) }
            for p in cEnv { free(p) }
        }
        var pid: pid_t = 0
        let rc = cArgv.withUnsafeBufferPointer { argvBuf in
            cEnv.withUnsafeBufferPointer { envBuf in
                posix_spawn(&pid, spawnPath, &actions, &attr, argvBuf.baseAddress!, envBuf.baseAddress!)
            }
        }
        // The child's ends are not ours any more.
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        if rc != 0 {
            close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
            throw LaunchFailure(reason: explainSpawnError(rc, executable: executable, program: program))
        }

        let childPID = pid
        LiveDetectorProcesses.insert(childPID)
        let channel = LineChannel(maxLineBytes: maxLineBytes)
        let ring = StderrRing(capacity: stderrRingBytes)
        let child = ChildProcess(pid: childPID, stdinFD: inPipe[1], stdout: channel, stderrRing: ring)
        stderrLog?.note("detector started: pid \(childPID), command \(DetectorError.render(command))")

        let outFD = outPipe[0], errFD = errPipe[0]
        startThread(name: "detector-\(childPID)-stdout") { channel.runReader(fd: outFD) }
        startThread(name: "detector-\(childPID)-stderr") { [weak child] in
            Self.drainStderr(fd: errFD, ring: ring, log: stderrLog)
            child?.markStderrDone()
        }
        startThread(name: "detector-\(childPID)-wait") { [weak child] in
            let st = Self.reap(childPID)
            LiveDetectorProcesses.remove(childPID)
            stderrLog?.note("detector pid \(childPID) \(st)")
            child?.markExited(st)
        }
        child.stdinWriter.start(name: "detector-\(childPID)-stdin")
        return child
    }

    // MARK: Control

    /// Queues bytes for the child's stdin (never blocks the caller).
    func send(_ bytes: [UInt8]) { stdinWriter.enqueue(bytes) }

    /// Closes stdin after everything queued so far has been written.
    func closeStdin() { stdinWriter.finish() }

    /// Sends `sig` to the child's process group (and to the child itself, in case it left the group).
    func signal(_ sig: Int32) {
        state.lock()
        let reaped = status != nil
        state.unlock()
        _ = kill(-pid, sig)  // the group outlives a reaped leader only while members remain
        if !reaped { _ = kill(pid, sig) }
    }

    /// SIGKILL the process group and stop listening to it. Does not wait.
    func forceKill() {
        signal(SIGKILL)
        stdinWriter.abort()
    }

    var exitStatus: ExitStatus? {
        state.lock()
        defer { state.unlock() }
        return status
    }

    /// Waits (asynchronously, polling) until the child is reaped, at most `timeout` seconds.
    func waitForExit(timeout: Double) async -> ExitStatus? {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, timeout) * 1e9)
        var delay: UInt64 = 1_000_000
        while true {
            if let s = exitStatus { return s }
            if DispatchTime.now().uptimeNanoseconds >= deadline { return nil }
            try? await Task.sleep(nanoseconds: delay)
            delay = min(delay * 2, 20_000_000)
        }
    }

    private var stderrFinished: Bool {
        state.lock()
        defer { state.unlock() }
        return stderrDone
    }

    /// Waits until stderr reached EOF (so the tail is complete), at most `timeout` seconds.
    func waitForStderr(timeout: Double) async {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, timeout) * 1e9)
        while true {
            let done = stderrFinished
            if done || DispatchTime.now().uptimeNanoseconds >= deadline { return }
            try? await Task.sleep(nanoseconds: 2_000_000)
        }
    }

    /// Stop listening (stdout channel closed). Call after the child is dead or killed.
    func detach() {
        stdout.close()
        stdinWriter.abort()
    }

    private func markExited(_ s: ExitStatus) {
        state.lock()
        status = s
        state.broadcast()
        state.unlock()
    }

    private func markStderrDone() {
        state.lock()
        stderrDone = true
        state.unlock()
        stderrRing.markEOF()
    }

    // MARK: Helpers

    private static func reap(_ pid: pid_t) -> ExitStatus {
        var st: Int32 = 0
        while true {
            let r = waitpid(pid, &st, 0)
            if r == pid { return ExitStatus(waitStatus: st) }
            if r < 0 && errno == EINTR { continue }
            return .unknown
        }
    }

    private static func drainStderr(fd: Int32, ring: StderrRing, log: StderrLogFile?) {
        let size = 16 * 1024
        let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        defer { buf.deallocate(); close(fd) }
        while true {
            let n = read(fd, buf, size)
            if n < 0 { if errno == EINTR { continue }; return }
            if n == 0 { return }
            let chunk = UnsafeBufferPointer(start: buf, count: n)
            ring.append(chunk)
            log?.write(chunk)
        }
    }

    static func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
        let t = Thread(block: body)
        t.name = name
        t.stackSize = 512 * 1024
        t.start()
    }

    private static func makePipe(_ fds: inout [Int32]) -> Bool {
        if let p2 = GNU.pipe2 {
            return fds.withUnsafeMutableBufferPointer { p2($0.baseAddress!, O_CLOEXEC) } == 0
        }
        guard pipe(&fds) == 0 else { return false }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return true
    }

    /// Finds the program like a shell would, so that "not found" can be reported precisely.
    static func resolveExecutable(_ program: String, path: String, cwd: String) throws(LaunchFailure) -> String {
        func check(_ candidate: String) -> (exists: Bool, executable: Bool, isDir: Bool) {
            var st = stat()
            guard stat(candidate, &st) == 0 else { return (false, false, false) }
            let isDir = (st.st_mode & S_IFMT) == S_IFDIR
            return (true, access(candidate, X_OK) == 0 && !isDir, isDir)
        }
        if program.contains("/") {
            let full = program.hasPrefix("/") ? program : cwd + "/" + program
            let c = check(full)
            if !c.exists {
                throw LaunchFailure(reason: "'\(program)' does not exist\(program.hasPrefix("/") ? "" : " (relative to \(cwd))"); fix the path in the detector command")
            }
            if c.isDir { throw LaunchFailure(reason: "'\(program)' is a directory, not a program; fix the detector command") }
            if !c.executable {
                throw LaunchFailure(reason: "'\(program)' is not executable; run `chmod +x \(program)` or start it through its interpreter, e.g. [\"python3\", \"\(program)\"]")
            }
            return program  // relative paths are resolved by exec after the chdir
        }
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            var d = String(dir)
            if d.isEmpty { d = "." }
            if !d.hasPrefix("/") { d = cwd + "/" + d }
            let candidate = d + "/" + program
            if check(candidate).executable { return candidate }
        }
        throw LaunchFailure(reason: "'\(program)' was not found on PATH (\(path)); install it, or use an absolute path as the first element of the detector command")
    }

    private static func explainSpawnError(_ rc: Int32, executable: String, program: String) -> String {
        let text = String(cString: strerror(rc))
        switch rc {
        case ENOENT:
            return "exec of '\(executable)' failed: \(text) (a missing interpreter on its #! line?); check the program and its first line"
        case EACCES:
            return "exec of '\(executable)' failed: \(text); make it executable (chmod +x) or start it through its interpreter"
        case ENOEXEC:
            return "exec of '\(executable)' failed: \(text); add a #! line to the script or start it through its interpreter, e.g. [\"python3\", \"\(program)\"]"
        default:
            return "exec of '\(executable)' failed: \(text)"
        }
    }
}

/// Writes queued byte buffers to the child's stdin on a dedicated thread, so that a child that
/// stops reading can never block the runner. SIGPIPE is blocked on that thread: a dead reader
/// shows up as EPIPE, after which everything queued is dropped.
final class StdinWriter: @unchecked Sendable {
    private let cond = NSCondition()
    private var fd: Int32
    private var pending: [[UInt8]] = []
    private var finishing = false
    private var aborted = false
    private var broken = false

    init(fd: Int32) { self.fd = fd }

    func start(name: String) {
        ChildProcess.startThread(name: name) { [self] in self.run() }
    }

    func enqueue(_ bytes: [UInt8]) {
        cond.lock()
        if !finishing && !aborted && !broken {
            pending.append(bytes)
            cond.signal()
        }
        cond.unlock()
    }

    /// Write what is queued, then close.
    func finish() {
        cond.lock()
        finishing = true
        cond.signal()
        cond.unlock()
    }

    /// Drop what is queued and close as soon as possible (a write blocked on a full pipe ends
    /// when the child dies, which the caller arranges).
    func abort() {
        cond.lock()
        aborted = true
        pending.removeAll()
        cond.signal()
        cond.unlock()
    }

    private func run() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        defer {
            cond.lock()
            if fd >= 0 { close(fd); fd = -1 }
            cond.unlock()
        }
        while true {
            cond.lock()
            while pending.isEmpty && !finishing && !aborted { cond.wait() }
            if aborted || (pending.isEmpty && finishing) { cond.unlock(); return }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            let out = fd
            cond.unlock()
            for bytes in batch where !writeAll(out, bytes) {
                cond.lock()
                broken = true
                pending.removeAll()
                cond.unlock()
                return
            }
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count {
                let n = write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                off += n
            }
            return true
        }
    }
}
