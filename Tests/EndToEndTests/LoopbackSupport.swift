import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GASCore
import GASData
import GASTestSupport
import GASMedia
@testable import GASNetwork

enum Loopback {
    /// A plain GET on loopback.
    static func get(_ url: String) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url)!)
        return String(decoding: data, as: UTF8.self)
    }
}


/// A server started as a separate process: waits for its "listening on URL" line; SIGTERM stops it.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let url: String
    private let output = Pipe()

    init(_ executable: String, _ arguments: [String], cwd: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !text.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = text.range(of: "listening on ") else {
            process.terminate()
            throw TestSupportError("\(executable) did not start: \(text)")
        }
        url = String(text[range.upperBound...].prefix { !$0.isWhitespace })
    }

    /// SIGTERM, then the exit status.
    func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGTERM without waiting (for `defer`).
    func terminate() {
        if process.isRunning { process.terminate() }
    }

    /// Everything printed after the "listening" line (read after `stop`).
    func remainingOutput() -> String {
        String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}

/// Runs blocking work (a gascli subprocess) on a GCD thread, not on the test's cooperative pool,
/// whose few threads in-process servers and other tests need meanwhile.
func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
