import Foundation
import GASCore
@testable import GASDetectors

#if canImport(Glibc)
import Glibc
#endif

enum Fixtures {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let packageDirectory = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()

    static func path(_ name: String) -> String {
        testsDirectory.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    }

    static var exampleDetector: String {
        packageDirectory.appendingPathComponent("examples/detectors/example_detector.py").path
    }

    /// argv that runs a fixture script with the system Python.
    static func command(_ fixture: String, _ args: String...) -> [String] {
        ["/usr/bin/env", "python3", path(fixture)] + args
    }

    static func exampleCommand(_ args: String...) -> [String] {
        ["/usr/bin/env", "python3", exampleDetector] + args
    }

    /// A fresh, empty temporary directory.
    static func tempDirectory(_ label: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("gas-detectors-tests-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A 16x16 JPEG (CPython's test image Lib/test/imghdrdata/python.jpg).
    static let tinyJPEG = Data(base64Encoded: """
        /9j/4AAQSkZJRgABAQEAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQ\
        Ew8QEBD/2wBDAQMDAwQDBAgEBAgQCwkLEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBD/wAARCAAQABAD\
        ASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAABwQF/8QAJBAAAQQBBAICAwAAAAAAAAAAAQIDBAYFBwgSExEiABQJMTL/xAAVAQEBAAAAAAAA\
        AAAAAAAAAAAABv/EACMRAAECBQMFAAAAAAAAAAAAAAECEQMEBQYhABIxFRZhgeH/2gAMAwEAAhEDEQA/ABSm0mobc8HmExLUlRzzEWPkJWW+ulrs\
        aUVAseUgslSlH9LKuPryIKuWPZdskzXmm3fX5m2nF4GlVxx/HOpx4ks51+MiU/Iaad7UcUo4tILoS4kqcWkezS0hO/HvuRp0rO6hWnWO1UisZVuF\
        i4GFeyEpmGepa5S5SWVPuciFKRFLgSrwetnyPIB+Vb4N9mKhQMzo5po9XLdDs9d6ZVix2VEhiL9kuNPxw2gEKcDQ/rs8AuA8VAe0vdl7VOYn+27f\
        lGAUgmITjbhSmCg3BYlyeWDkMolvw4KOp1KM6iCNvngZHwetf//Z
        """, options: .ignoreUnknownCharacters)!

    /// Runs a short helper command to completion (test setup only).
    static func run(_ argv: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw NSError(domain: "Fixtures", code: Int(p.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "\(argv) exited with \(p.terminationStatus)"])
        }
    }
}

func makeInputs(_ n: Int, prefix: String = "s", path: String = "/nonexistent/x.png") -> [DetectorInput] {
    (0..<n).map { DetectorInput(sampleID: "\(prefix)\($0)", path: path, modality: .image, seed: UInt64($0)) }
}

func config(_ name: String, _ command: [String], batchTimeout: Double = 10, startupTimeout: Double = 10,
            maxRestarts: Int = 2) -> ProcessDetectorConfig {
    ProcessDetectorConfig(name: name, command: command, requiredModalities: [.image],
                          batchTimeout: batchTimeout, startupTimeout: startupTimeout, maxRestarts: maxRestarts)
}

/// Seconds taken by `body`.
func timed<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let value = try await body()
    return (value, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}

/// True when no process with this pid exists (not even a zombie).
func processDoesNotExist(_ pid: Int32) -> Bool {
    kill(pid, 0) == -1 && errno == ESRCH
}

/// True when the process is gone or is a zombie (an orphan's zombie may wait for a PID 1 that never reaps).
func processIsDead(_ pid: Int32) -> Bool {
    if processDoesNotExist(pid) { return true }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return true }
    let rest = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces)
    return rest.hasPrefix("Z") || rest.hasPrefix("X")
}

/// Polls `condition` for up to `timeout` seconds.
func eventually(timeout: Double = 3, _ condition: () async -> Bool) async -> Bool {
    let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
    while DispatchTime.now().uptimeNanoseconds < deadline {
        if await condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return await condition()
}

extension DetectorResult {
    var failureMessage: String? {
        if case .failure(_, let m) = self { return m }
        return nil
    }

    var failureStatus: OutcomeStatus? {
        if case .failure(let s, _) = self { return s }
        return nil
    }

    var probs: [Double]? {
        if case .probabilities(let p) = self { return p }
        return nil
    }
}
