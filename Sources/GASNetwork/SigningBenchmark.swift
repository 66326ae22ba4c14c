import AsyncHTTPClient
import Crypto
import Foundation
import GASSpec
import Logging
import NIOCore
import NIOHTTP1

/// `gascli generator bench`: signed requests per second against a generator server on loopback.
///
/// Starts a generator server on 127.0.0.1 (any free port) that trusts a throwaway validator key,
/// then sends `requests` Epistula-signed `GET /miner_info` requests (each with a fresh uuid and
/// timestamp, verified by the server: signature, signer, timestamp, replay cache) from
/// `concurrency` workers, stopping early after `maxSeconds`. Reports throughput, latency
/// percentiles and the process's peak resident memory (VmHWM).
public enum SigningBenchmark {
    public struct Result: Sendable {
        public var requests: Int
        public var ok: Int
        public var failed: Int
        public var seconds: Double
        public var requestsPerSecond: Double
        public var p50Ms: Double
        public var p99Ms: Double
        public var maxMs: Double
        public var peakRSSKiB: Int?
        public var statusCounts: [Int: Int]
    }

    actor Counter {
        var next = 0
        let limit: Int
        init(limit: Int) { self.limit = limit }
        func take() -> Int? {
            guard next < limit else { return nil }
            next += 1
            return next - 1
        }
    }

    public static func run(requests: Int, concurrency: Int, maxSeconds: Double) async throws -> Result {
        let validator = Ed25519Signer(privateKey: Curve25519.Signing.PrivateKey())
        let generator = Ed25519Signer(privateKey: Curve25519.Signing.PrivateKey())
        var config = GeneratorServerConfig()
        config.host = "127.0.0.1"
        config.port = 0
        config.validators = [validator.publicKeyHex]
        var logger = Logger(label: "gascli.bench")
        logger.logLevel = .error
        let server = try await GeneratorServer.start(config: config, signer: generator, backend: BuiltinBackend(), logger: logger)
        var clientConfig = HTTPClient.Configuration()
        clientConfig.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfig)
        let url = server.baseURL + "/miner_info"
        let counter = Counter(limit: requests)
        let clock = ContinuousClock()
        let start = clock.now
        let stopAt = start + .milliseconds(Int64(maxSeconds * 1000))
        let results = await withTaskGroup(of: [(Double, Int)].self) { group in
            for _ in 0..<max(1, concurrency) {
                group.addTask {
                    var local: [(Double, Int)] = []
                    while clock.now < stopAt, await counter.take() != nil {
                        var request = HTTPClientRequest(url: url)
                        request.method = .GET
                        if let headers = try? Epistula.headers(body: [UInt8](), signer: validator, signedFor: generator.identity) {
                            for (k, v) in headers { request.headers.add(name: k, value: v) }
                        }
                        let t0 = clock.now
                        var code = 0
                        if let response = try? await client.execute(request, timeout: .seconds(10)) {
                            code = Int(response.status.code)
                            _ = try? await response.body.collect(upTo: 1 << 16)
                        }
                        let d = clock.now - t0
                        local.append((Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15, code))
                    }
                    return local
                }
            }
            var all: [(Double, Int)] = []
            for await part in group { all += part }
            return all
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        try? await client.shutdown()
        await server.stop(drainSeconds: 1)
        let latencies = results.map { $0.0 }.sorted()
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int((p * Double(latencies.count)).rounded(.up)) - 1)]
        }
        let ok = results.filter { $0.1 == 200 }.count
        return Result(requests: results.count, ok: ok, failed: results.count - ok, seconds: seconds,
                      requestsPerSecond: seconds > 0 ? Double(results.count) / seconds : 0,
                      p50Ms: percentile(0.50), p99Ms: percentile(0.99), maxMs: latencies.last ?? 0, peakRSSKiB: peakRSSKiB(),
                      statusCounts: Dictionary(grouping: results, by: { $0.1 }).mapValues { $0.count })
    }

    /// VmHWM from /proc/self/status (Linux), in KiB.
    public static func peakRSSKiB() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        }
        return nil
    }
}
