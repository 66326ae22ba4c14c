import Foundation
import GASTestSupport
import Testing

@testable import GASMedia

/// A failure in test setup (a fixture that could not be built).
struct SetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The package root, from this file's location (Tests/GASMediaTests/TestSupport.swift).
let packageRoot: String = {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
}()

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TempDir {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("gasmedia-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Runs Python for fixtures that are easiest to build with tarfile/zipfile.
/// Found as: env GAS_TEST_PYTHON, else <package root>/.venv/bin/python3, else python3 on PATH.
enum Python {
    static let command: [String] = {
        if let explicit = ProcessInfo.processInfo.environment["GAS_TEST_PYTHON"], !explicit.isEmpty {
            return [explicit]
        }
        let venv = packageRoot + "/.venv/bin/python3"
        if FileManager.default.isExecutableFile(atPath: venv) { return [venv] }
        return ["/usr/bin/env", "python3"]
    }()

    /// Runs `script` with `arguments` in sys.argv[1...]; throws with stderr on failure.
    static func run(_ script: String, _ arguments: String...) throws {
        try Tool.run(command + ["-c", script] + arguments)
    }
}

enum Tool {
    static func run(_ argv: [String], in directory: String? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SetupError("\(argv.prefix(2).joined(separator: " ")) failed: \(String(decoding: stderr, as: UTF8.self))")
        }
    }
}

/// A test image with smooth gradients and a little structure (JPEG-friendly).
func gradientImage(width: Int, height: Int) -> RGBImage {
    var pixels: [UInt8] = []
    pixels.reserveCapacity(width * height * 3)
    for y in 0..<height {
        for x in 0..<width {
            pixels.append(UInt8((x * 255) / max(width - 1, 1)))
            pixels.append(UInt8((y * 255) / max(height - 1, 1)))
            pixels.append(UInt8(((x + y) * 127) / max(width + height - 2, 1) + 64))
        }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
}

func noiseImage(width: Int, height: Int, seed: UInt64) -> RGBImage {
    var random = SeededBytes(seed: seed)
    return RGBImage(width: width, height: height, pixels: random.bytes(width * height * 3))
}

/// Expects `body` to throw a MediaError and returns it (nil and a recorded issue otherwise).
func mediaError(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) -> MediaError? {
    do {
        try body()
        Issue.record("expected a MediaError, got success", sourceLocation: sourceLocation)
        return nil
    } catch let error as MediaError {
        return error
    } catch {
        Issue.record("expected a MediaError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
