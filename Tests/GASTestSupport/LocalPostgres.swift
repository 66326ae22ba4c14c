import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL server on 127.0.0.1 for the shared-ledger tests, started with
/// `hosts/postgres/local-server.sh` in a temporary folder (trust authentication, user postgres).
///
/// `shared` is started once per test process and stopped when it exits; tests that stop the
/// server on purpose start their own. Each test works in a database of its own.
public final class LocalPostgres: Sendable {
    public let directory: String
    public let port: Int

    static let script = TestSupport.repositoryRoot + "/hosts/postgres/local-server.sh"
    public static let binDirectory: String? = {
        if let p = ProcessInfo.processInfo.environment["PG_BIN"], !p.isEmpty { return p }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted {
            $0.compare($1, options: .numeric) == .orderedAscending
        }
        return versions.last.map { "\(root)/\($0)/bin" }
    }()

    /// Why the tests cannot run here, or nil. In CI (CI=true) this is always nil: a missing or
    /// broken PostgreSQL must fail the tests there, never skip them.
    public static var unavailableReason: String? {
        if ProcessInfo.processInfo.environment["CI"] == "true" { return nil }
        guard let bin = binDirectory, FileManager.default.isExecutableFile(atPath: bin + "/initdb") else {
            return "PostgreSQL server binaries are missing (/usr/lib/postgresql/*/bin): ./install.sh --with-test-tools installs them"
        }
        return nil
    }

    public static var available: Bool {
        if let reason = unavailableReason {
            print("skipping the PostgreSQL ledger tests: \(reason)")
            return false
        }
        return true
    }

    init(directory: String, port: Int) {
        self.directory = directory
        self.port = port
    }

    /// Starts a new server (initdb + pg_ctl). Throws with the server's own words when it cannot.
    public static func start() throws -> LocalPostgres {
        let parent = try TestSupport.temporaryDirectory("pg")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: parent)
        let directory = parent + "/cluster"
        let r = try spawn(["/bin/bash", script, "start", directory], log: parent + "/start.log")
        guard r.status == 0, let port = Int(r.output.split(separator: "\n").last.map(String.init) ?? "") else {
            throw TestSupportError("PostgreSQL did not start (local-server.sh exit \(r.status)): \(r.output)")
        }
        return LocalPostgres(directory: directory, port: port)
    }

    nonisolated(unsafe) static var sharedServer: LocalPostgres?
    static let sharedResult: Result<LocalPostgres, TestSupportError> = {
        do {
            let server = try start()
            sharedServer = server
            atexit { LocalPostgres.sharedServer?.stop() }
            return .success(server)
        } catch {
            return .failure(error as? TestSupportError ?? TestSupportError("\(error)"))
        }
    }()

    /// The server shared by this test process.
    public static func shared() throws -> LocalPostgres {
        try sharedResult.get()
    }

    public func stop() {
        _ = try? Self.spawn(["/bin/bash", Self.script, "stop", directory], log: directory + "/../stop.log")
    }

    /// Runs a program that starts a daemon and waits for it with waitpid, its output going to a
    /// file: Foundation's Process, reading pipes, can wait forever when the daemon it started
    /// outlives it.
    static func spawn(_ argv: [String], log: String) throws -> (status: Int32, output: String) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
        guard rc == 0 else { throw TestSupportError("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
    }

    /// Starts this (stopped) server again on the same port.
    public func restart() throws {
        guard let bin = Self.binDirectory else { throw TestSupportError("no PostgreSQL binaries") }
        let pgCtl = [bin + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "30",
                     "-o", "-c listen_addresses=127.0.0.1 -p \(port) -k \(directory) -c fsync=off -c max_connections=200", "start"]
        let r = try Self.spawn(getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + pgCtl : pgCtl, log: directory + "/../restart.log")
        if r.status != 0 { throw TestSupportError("PostgreSQL did not restart: \(r.output)") }
    }

    /// Stops the server at once (`immediate`: connections are cut as in a crash).
    public func stopImmediately() throws {
        let r = try Self.spawn(["/bin/bash", Self.script, "stop", directory], log: directory + "/../stop.log")
        if r.status != 0 { throw TestSupportError("PostgreSQL did not stop: \(r.output)") }
    }

    /// A URL for `database` (trust authentication: no password).
    public func url(_ database: String) -> String {
        "postgres://postgres@127.0.0.1:\(port)/\(database)"
    }

    /// Runs SQL with psql and returns its unaligned, tuples-only output.
    @discardableResult
    public func sql(_ statement: String, database: String = "postgres") throws -> String {
        guard let bin = Self.binDirectory else { throw TestSupportError("no PostgreSQL binaries") }
        let r = try TestSupport.run(bin + "/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", database,
                                                    "-v", "ON_ERROR_STOP=1", "-At", "-c", statement])
        if r.status != 0 { throw TestSupportError("psql failed on \(statement.prefix(120)): \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A new, empty database with a unique name.
    public func createDatabase(_ label: String = "gas") throws -> String {
        let name = "\(label)_\(UUID().uuidString.prefix(8).lowercased())"
        try sql("CREATE DATABASE \(name)")
        return name
    }
}
