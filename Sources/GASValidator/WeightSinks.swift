import AsyncHTTPClient
import Foundation
import GASSpec
import GASStore
import NIOCore
import NIOHTTP1

/// What every sink receives: the vector as the chain would get it, with where it came from.
public struct WeightPayload: Codable, Sendable, Equatable {
    public var netuid: Int
    public var versionKey: Int
    /// The weight occurrence (block with block % weights.every_blocks == 0).
    public var occurrence: Int64
    /// The fresh chain head the set is emitted at.
    public var block: Int64
    public var uids: [Int]
    /// u16 weights, max-upscaled to 65535 (bittensor `convert_weights_and_uids_for_emit`).
    public var weights: [Int]
    public var hotkeys: [String]

    enum CodingKeys: String, CodingKey {
        case netuid, occurrence, block, uids, weights, hotkeys
        case versionKey = "version_key"
    }

    public func json() -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? e.encode(self)) ?? Data()
    }
}

/// One try of one sink.
public struct SinkOutcome: Sendable {
    public var outcome: String  // ok, failed, timeout
    public var detail: String?
    public var seconds: Double
}

public enum WeightSinks {
    public static func emitOnce(_ sink: SinkConfig, payload: WeightPayload, stateDirectory: String, configDirectory: String,
                                http: HTTPClient) async -> SinkOutcome {
        let began = Date()
        func done(_ outcome: String, _ detail: String?) -> SinkOutcome {
            SinkOutcome(outcome: outcome, detail: detail, seconds: Date().timeIntervalSince(began))
        }
        let body = payload.json()
        switch sink {
        case let .file(path):
            let target = PathResolution.resolve(path, against: stateDirectory)
            do {
                try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try AtomicFile.write(body + Data("\n".utf8), to: target)
                return done("ok", target)
            } catch {
                return done("failed", "cannot write \(target): \(error.localizedDescription)")
            }
        case let .command(argv, timeout):
            let env = ["GAS_NETUID": String(payload.netuid), "GAS_VERSION_KEY": String(payload.versionKey),
                       "GAS_BLOCK": String(payload.block), "GAS_OCCURRENCE": String(payload.occurrence),
                       "GAS_UIDS": payload.uids.map(String.init).joined(separator: ","),
                       "GAS_WEIGHTS": payload.weights.map(String.init).joined(separator: ",")]
            do {
                let r = try await BoundedCommand.run(argv, stdin: body, environment: env, workingDirectory: configDirectory, timeout: timeout)
                if r.timedOut { return done("timeout", r.describe(timeout: timeout)) }
                if r.succeeded {
                    let out = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                    return done("ok", out.isEmpty ? nil : String(out.suffix(300)))
                }
                return done("failed", r.describe(timeout: timeout))
            } catch {
                return done("failed", "\(error)")
            }
        case let .http(url, timeout):
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
            do {
                let response = try await http.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
                let text = try await response.body.collect(upTo: 64 * 1024)
                let answer = String(buffer: text).trimmingCharacters(in: .whitespacesAndNewlines)
                if (200..<300).contains(response.status.code) { return done("ok", "HTTP \(response.status.code)") }
                return done("failed", "HTTP \(response.status.code)" + (answer.isEmpty ? "" : ": \(answer.prefix(200))"))
            } catch let e as HTTPClientError where e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout {
                return done("timeout", "no answer from \(url) within \(timeout)s")
            } catch {
                return done("failed", "\(url): \(error)")
            }
        }
    }
}
