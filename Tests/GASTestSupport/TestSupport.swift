import Foundation

/// Shared helpers for the test suites: temporary folders, running programs, the cross-check Python.
public enum TestSupport {
    /// The repository root, found from this file's location.
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// A new folder for one test, inside `temporaryRoot`.
    public static func temporaryDirectory(_ label: String = "gas") throws -> String {
        let path = (temporaryRoot as NSString).appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The one folder of this test process (`gas-tests-<pid>` in the system's temporary folder),
    /// holding every test's folders and removed when the process exits, so a run of the suite
    /// leaves nothing behind. Set GAS_KEEP_TEST_DIRS=1 to keep it for a look after a failure.
    public static let temporaryRoot: String = {
        let root = (NSTemporaryDirectory() as NSString).appendingPathComponent("gas-tests-\(getpid())")
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        if ProcessInfo.processInfo.environment["GAS_KEEP_TEST_DIRS"] != "1" {
            atexit { removeTemporaryRoot() }
        }
        return root
    }()

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs a program to completion, capturing both streams (drained concurrently, so a chatty
    /// child never blocks on a full pipe).
    public static func run(_ executable: String, _ arguments: [String], cwd: String? = nil,
                           environment: [String: String] = [:], stdin: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        group.enter()
        DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        process.waitUntilExit()
        group.wait()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// The Python used for cross-checks against real readers (pyarrow, DuckDB): `GAS_TEST_PYTHON`,
    /// else `.venv/bin/python3` in the repository (made by `./install.sh --with-test-tools`), else python3.
    public static let python: String = {
        if let p = ProcessInfo.processInfo.environment["GAS_TEST_PYTHON"], !p.isEmpty { return p }
        let venv = repositoryRoot + "/.venv/bin/python3"
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        return "/usr/bin/env"
    }()

    /// Runs a Python script with the cross-check interpreter.
    public static func python(_ script: String, _ arguments: [String] = [], cwd: String? = nil) throws -> Result {
        if python == "/usr/bin/env" { return try run(python, ["python3", "-c", script] + arguments, cwd: cwd) }
        return try run(python, ["-c", script] + arguments, cwd: cwd)
    }

    /// Fails loudly (never skips) when pyarrow or duckdb are missing.
    public static func requirePythonModules(_ modules: [String]) throws {
        let r = try python("import " + modules.joined(separator: ", "))
        if r.status != 0 {
            throw TestSupportError("the cross-check Python (\(python)) lacks \(modules.joined(separator: ", ")): run ./install.sh --with-test-tools (\(r.stderr.suffix(200)))")
        }
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

import GASCore

/// Seeded randomness for tests: the project's own SplitMix64, so failures reproduce.
public typealias SeededRandom = SplitMix64
public typealias SeededBytes = SplitMix64

extension SplitMix64 {
    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }

    /// In [0, bound); plain modulo, fine for test mutations.
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

private func removeTemporaryRoot() {
    try? FileManager.default.removeItem(atPath: TestSupport.temporaryRoot)
}
