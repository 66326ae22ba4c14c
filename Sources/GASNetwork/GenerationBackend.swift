import Foundation
import GASCore
import GASData
import GASMedia
import GASSpec

/// A challenge as the generator's backend sees it.
public struct GenerationRequest: Sendable {
    public var taskID: String
    public var prompt: String
    public var modality: Modality
    public var tier: ResolutionTier
    /// `parameters.seed` when the validator sent one, else derived from the prompt.
    public var seed: UInt64
}

public enum GenerationResult: Sendable {
    case media([UInt8])
    case failure(String)
}

/// What produces media for a challenge: builtin, an external command, or (in tests) anything else.
public protocol GenerationBackend: Sendable {
    var name: String { get }
    func generate(_ request: GenerationRequest) async -> GenerationResult
}

/// Procedural images (GASData.ProceduralImages), a pure function of prompt and seed, rendered as
/// a square of the side configured for the requested tier and sent as PNG. Images only.
public struct BuiltinBackend: GenerationBackend {
    public let sizes: [ResolutionTier: Int]
    public var name: String { "builtin" }

    public init(sizes: [ResolutionTier: Int] = GeneratorServerConfig.defaultSizes) { self.sizes = sizes }

    public static func seed(prompt: String, seed: UInt64) -> UInt64 {
        var g = SplitMix64(seed: seed, label: "builtin-generator:" + prompt)
        return g.next()
    }

    public func generate(_ request: GenerationRequest) async -> GenerationResult {
        guard request.modality == .image else { return .failure("the builtin backend makes images only; configure a command backend for video") }
        let side = sizes[request.tier] ?? GeneratorServerConfig.defaultSizes[request.tier] ?? 1024
        let image = ProceduralImages.generate(seed: Self.seed(prompt: request.prompt, seed: request.seed), width: side, height: side)
        do { return .media(try ImageCodec.encodePNG(image)) } catch { return .failure("PNG encoding failed: \(error)") }
    }
}

/// Runs an external program (a diffusers script, a shell wrapper) per challenge. Arguments may use
/// `{prompt}`, `{output}`, `{seed}`, `{resolution}`, `{modality}`, `{task_id}`; the program writes
/// the media to `{output}` and exits 0. Killed after the timeout; output above the size limit fails.
public struct CommandBackend: GenerationBackend {
    public let argv: [String]
    public let timeoutSeconds: Double
    public let maxOutputBytes: Int
    public let workingDirectory: String
    public var name: String { "command" }

    public init(argv: [String], timeoutSeconds: Double, maxOutputBytes: Int, workingDirectory: String) {
        self.argv = argv
        self.timeoutSeconds = timeoutSeconds
        self.maxOutputBytes = maxOutputBytes
        self.workingDirectory = workingDirectory
    }

    public func generate(_ request: GenerationRequest) async -> GenerationResult {
        let dir = NSTemporaryDirectory() + "gascli-gen-\(request.taskID)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = dir + "/output." + (request.modality == .video ? "mp4" : "png")
        let args = argv.map {
            $0.replacingOccurrences(of: "{prompt}", with: request.prompt).replacingOccurrences(of: "{output}", with: output)
                .replacingOccurrences(of: "{seed}", with: String(request.seed)).replacingOccurrences(of: "{resolution}", with: request.tier.rawValue)
                .replacingOccurrences(of: "{modality}", with: request.modality.rawValue).replacingOccurrences(of: "{task_id}", with: request.taskID)
        }
        guard let program = args.first else { return .failure("empty command") }
        let process = Process()
        if program.contains("/") {
            process.executableURL = URL(fileURLWithPath: program, relativeTo: URL(fileURLWithPath: workingDirectory))
            process.arguments = Array(args.dropFirst())
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = args
        }
        process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let stderrPath = dir + "/stderr.txt"
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        let status: Int32
        do {
            status = try await withCheckedThrowingContinuation { (c: CheckedContinuation<Int32, any Error>) in
                process.terminationHandler = { p in c.resume(returning: p.terminationStatus) }
                do { try process.run() } catch {
                    process.terminationHandler = nil
                    c.resume(throwing: error)
                    return
                }
                let pid = process.processIdentifier
                let timeout = timeoutSeconds
                Task.detached {
                    try? await Task.sleep(nanoseconds: UInt64(timeout * 1e9))
                    // Foundation starts the child as the leader of its own process group: signal the
                    // whole group, so whatever the program started stops too.
                    guard process.isRunning else { return }
                    let target = getpgid(pid) == pid ? -pid : pid
                    kill(target, SIGTERM)
                    try? await Task.sleep(nanoseconds: 2_000_000_000)
                    kill(target, SIGKILL)
                }
            }
        } catch {
            return .failure("cannot start \(program): \(error)")
        }
        if process.terminationReason == .uncaughtSignal {
            return .failure("the command was stopped by signal \(status) (timeout \(timeoutSeconds) s?)")
        }
        guard status == 0 else {
            let tail = (try? String(contentsOfFile: stderrPath, encoding: .utf8)).map { String($0.suffix(300)) } ?? ""
            return .failure("the command exited with status \(status): \(tail.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: output), let size = attrs[.size] as? Int else {
            return .failure("the command exited 0 but wrote no file at {output}")
        }
        guard size <= maxOutputBytes else { return .failure("the output is \(size) bytes, above the limit of \(maxOutputBytes)") }
        guard let data = FileManager.default.contents(atPath: output) else { return .failure("cannot read the output file") }
        return .media([UInt8](data))
    }
}

/// MIME type from magic bytes (GAS `webhooks.py` sniffing): PNG, JPEG, WebP, GIF, MP4/MOV, WebM.
public enum MediaSniffer {
    public static func contentType(_ b: [UInt8], modality: Modality) -> String {
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "image/png" }
        if b.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if b.count >= 12, b.starts(with: Array("RIFF".utf8)), Array(b[8..<12]) == Array("WEBP".utf8) { return "image/webp" }
        if b.starts(with: Array("GIF8".utf8)) { return "image/gif" }
        if isMP4(b) { return Array(b[8..<12]) == Array("qt  ".utf8) ? "video/quicktime" : "video/mp4" }
        if b.starts(with: [0x1A, 0x45, 0xDF, 0xA3]) { return "video/webm" }
        return modality == .video ? "video/mp4" : "image/png"
    }

    /// An ISO BMFF file: a box whose type at bytes 4..<8 is `ftyp`.
    public static func isMP4(_ b: [UInt8]) -> Bool {
        b.count >= 12 && Array(b[4..<8]) == Array("ftyp".utf8)
    }
}
