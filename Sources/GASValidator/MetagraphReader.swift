import Crypto
import Foundation
import GASSpec

/// Reads the metagraph from its configured source, with the sha256 of the bytes it was read from.
public enum MetagraphReader {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func read(_ source: MetagraphSource, workingDirectory: String) async throws -> (metagraph: Metagraph, sha256: String) {
        switch source {
        case let .file(path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Failure(description: "metagraph file \(path) does not exist or cannot be read")
            }
            return try parse(data, origin: path)
        case let .command(argv, timeout):
            let result: BoundedCommand.Result
            do {
                result = try await BoundedCommand.run(argv, workingDirectory: workingDirectory, timeout: timeout)
            } catch {
                throw Failure(description: "metagraph command \(argv.joined(separator: " ")) could not start: \(error)")
            }
            guard result.succeeded else {
                throw Failure(description: "metagraph command \(argv.joined(separator: " ")) \(result.describe(timeout: timeout))")
            }
            return try parse(Data(result.stdout.utf8), origin: "output of \(argv.joined(separator: " "))")
        }
    }

    static func parse(_ data: Data, origin: String) throws -> (metagraph: Metagraph, sha256: String) {
        guard let text = String(data: data, encoding: .utf8) else { throw Failure(description: "\(origin) is not UTF-8 text") }
        do {
            let m = try MetagraphLoader.parse(text: text, file: origin)
            return (m, SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined())
        } catch let e as SpecErrors {
            throw Failure(description: "invalid metagraph: " + e.errors.map(\.description).joined(separator: "; "))
        }
    }
}
