import AsyncHTTPClient
import Foundation
import GASSpec
import NIOCore
import NIOHTTP1

/// The chain head as the service sees it.
public struct ChainTick: Sendable, Equatable {
    public var block: Int64
    /// Chain time in Unix seconds: for the simulated clock the nominal time of the block
    /// (genesis + block × block time), for a real chain the wall clock when the head was read.
    public var time: Double
}

public enum ClockError: Error, Equatable, CustomStringConvertible {
    case unreachable(String)
    case garbage(String)
    case stale(block: Int64, seconds: Double)
    case beforeGenesis(seconds: Double)

    public var description: String {
        switch self {
        case let .unreachable(m): "chain endpoint unreachable: \(m)"
        case let .garbage(m): "chain endpoint answered garbage: \(m)"
        case let .stale(block, seconds): "chain head is stale: block \(block) has not advanced for \(Int(seconds))s"
        case let .beforeGenesis(s): "the simulated chain starts in \(Int(s.rounded(.up)))s (clock.genesis is in the future)"
        }
    }
}

/// Where block numbers come from.
public protocol ChainClock: Sendable {
    /// The current head; throws when it cannot be read or is stale (weights are never set then).
    func head() async throws -> ChainTick
    /// The block a time-based occurrence at Unix second `t` belongs to (the first block at or after it).
    func position(ofTime t: Double, at tick: ChainTick) -> Int64
    /// The chain time of a block, for showing and for time-based cadences.
    func time(ofBlock b: Int64, at tick: ChainTick) -> Double
    /// Seconds between head reads.
    var pollSeconds: Double { get }
    var label: String { get }
    func shutdown() async
}

/// Blocks from wall time: block = floor((now - genesis) × speedup / block time).
public struct SimulatedClock: ChainClock {
    public let config: SimulatedClockConfig
    let now: @Sendable () -> Double

    public init(_ config: SimulatedClockConfig, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.config = config
        self.now = now
    }

    public func head() async throws -> ChainTick {
        let elapsed = (now() - config.genesis) * config.speedup
        if elapsed < 0 { throw ClockError.beforeGenesis(seconds: -elapsed / config.speedup) }
        let block = Int64((elapsed / config.blockSeconds).rounded(.down))
        return ChainTick(block: block, time: config.genesis + Double(block) * config.blockSeconds)
    }

    public func position(ofTime t: Double, at tick: ChainTick) -> Int64 {
        Int64(((t - config.genesis) / config.blockSeconds).rounded(.up))
    }

    public func time(ofBlock b: Int64, at tick: ChainTick) -> Double { config.genesis + Double(b) * config.blockSeconds }

    public var pollSeconds: Double { min(max(config.blockSeconds / config.speedup / 2, 0.01), 6) }

    public var label: String {
        "simulated (genesis \(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: config.genesis))), \(config.blockSeconds)s blocks"
            + (config.speedup == 1 ? ")" : ", \(config.speedup)x speed)")
    }

    public func shutdown() async {}
}

/// Blocks from a Substrate node: JSON-RPC `chain_getHeader` over HTTP POST.
public final class SubstrateClock: ChainClock, @unchecked Sendable {
    public let config: SubstrateClockConfig
    /// Nominal seconds per block, to place time-based occurrences on blocks.
    public static let blockSeconds = 12.0
    private let client: HTTPClient
    private let lock = NSLock()
    private var lastBlock: Int64?
    private var lastAdvance: Date?

    public init(_ config: SubstrateClockConfig) {
        self.config = config
        self.client = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    public func head() async throws -> ChainTick {
        let block = try await Self.fetchHead(client: client, url: config.url, timeout: config.timeout)
        let now = Date()
        let staleFor: Double? = lock.withLock {
            // A new number (also a lower one: a reorg or another node) counts as progress.
            if lastBlock != block || lastAdvance == nil {
                lastBlock = block
                lastAdvance = now
                return nil
            }
            let idle = now.timeIntervalSince(lastAdvance!)
            return idle > config.staleAfter ? idle : nil
        }
        if let staleFor { throw ClockError.stale(block: block, seconds: staleFor) }
        return ChainTick(block: block, time: now.timeIntervalSince1970)
    }

    /// One `chain_getHeader` request; the header's `number` is a hex string ("0x1a2b") or an integer.
    public static func fetchHead(client: HTTPClient, url: String, timeout: Double) async throws -> Int64 {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"chain_getHeader","params":[]}"#))
        let body: ByteBuffer
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            guard response.status == .ok else {
                throw ClockError.garbage("HTTP \(response.status.code) from \(url)")
            }
            body = try await response.body.collect(upTo: 1 << 20)
        } catch let e as ClockError {
            throw e
        } catch {
            throw ClockError.unreachable("\(url): \(error)")
        }
        let data = Data(body.readableBytesView)
        let reply: RPCReply
        do {
            reply = try JSONDecoder().decode(RPCReply.self, from: data)
        } catch {
            throw ClockError.garbage("not a JSON-RPC reply: \(String(decoding: data.prefix(120), as: UTF8.self))")
        }
        if let err = reply.error { throw ClockError.garbage("JSON-RPC error \(err.code ?? 0): \(err.message ?? "")") }
        guard let number = reply.result?.number else {
            throw ClockError.garbage("no result.number in \(String(decoding: data.prefix(120), as: UTF8.self))")
        }
        switch number {
        case let .text(s):
            if s.hasPrefix("0x"), let v = Int64(s.dropFirst(2), radix: 16), v >= 0 { return v }
            throw ClockError.garbage("result.number is not a hex block number: '\(s.prefix(40))'")
        case let .integer(v):
            if v >= 0 { return v }
            throw ClockError.garbage("result.number is negative: \(v)")
        }
    }

    struct RPCReply: Decodable {
        struct Header: Decodable { var number: BlockNumber? }
        struct RPCFault: Decodable { var code: Int?; var message: String? }
        var result: Header?
        var error: RPCFault?
    }

    enum BlockNumber: Decodable {
        case text(String), integer(Int64)
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let v = try? c.decode(Int64.self) { self = .integer(v) } else { self = .text(try c.decode(String.self)) }
        }
    }

    public func position(ofTime t: Double, at tick: ChainTick) -> Int64 {
        tick.block - Int64(((tick.time - t) / Self.blockSeconds).rounded(.down))
    }

    public func time(ofBlock b: Int64, at tick: ChainTick) -> Double { tick.time + Double(b - tick.block) * Self.blockSeconds }

    public var pollSeconds: Double { config.poll }
    public var label: String { "substrate \(config.url)" }

    public func shutdown() async {
        try? await client.shutdown()
    }
}

public enum Clocks {
    public static func make(_ config: ClockConfig) -> any ChainClock {
        switch config {
        case let .simulated(c): SimulatedClock(c)
        case let .substrate(c): SubstrateClock(c)
        }
    }
}
