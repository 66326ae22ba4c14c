import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import ServiceLifecycle
import UnixSignals

/// Closes connections that are too slow to send a request: the request head must be complete
/// within `headerTimeout` of the connection opening (or of the previous response), and the whole
/// body within `bodyTimeout` of the head. An idle timeout alone does not stop a slow-loris client,
/// which sends a byte just often enough to never be idle.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let headerTimeout: TimeAmount
    let bodyTimeout: TimeAmount
    let onTimeout: @Sendable () -> Void
    private var timer: Scheduled<Void>?
    /// After a response, an expiring timer closes an idle keep-alive connection: not a slow client.
    private var idleAfterResponse = false

    init(headerTimeout: TimeAmount, bodyTimeout: TimeAmount, onTimeout: @escaping @Sendable () -> Void) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.onTimeout = onTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context, headerTimeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context, headerTimeout)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancel() }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            idleAfterResponse = false
            arm(context, bodyTimeout)
        case .body: break
        case .end: cancel()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            arm(context, headerTimeout)
            idleAfterResponse = true
        }
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext, _ amount: TimeAmount) {
        cancel()
        let loopBound = NIOLoopBound((context, self), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: amount) {
            let (context, handler) = loopBound.value
            if !handler.idleAfterResponse { handler.onTimeout() }
            context.close(promise: nil)
        }
    }

    private func cancel() {
        timer?.cancel()
        timer = nil
    }
}

/// A Hummingbird server on a port, started and stopped from code (tests, collections) or run
/// until SIGTERM/SIGINT (the generator command).
public final class RunningServer: Sendable {
    public let host: String
    public let port: Int
    let group: ServiceGroup
    let task: Task<Void, any Error>

    public var baseURL: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    public struct Timeouts: Sendable {
        public var header: Double
        public var body: Double
        public var idle: Double
        public init(header: Double = 5, body: Double = 10, idle: Double = 30) {
            self.header = header
            self.body = body
            self.idle = idle
        }
    }

    init(host: String, port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.host = host
        self.port = port
        self.group = group
        self.task = task
    }

    /// Binds and starts serving; returns once the port is bound (port 0 = any free port).
    public static func start(
        router: Router<BasicRequestContext>, host: String, port: Int, timeouts: Timeouts = Timeouts(), signals: [UnixSignal] = [],
        services: [any Service] = [], onSlowClient: @escaping @Sendable () -> Void = {}, logger: Logger
    ) async throws -> RunningServer {
        let bound = BoundPort()
        let headerTimeout = TimeAmount.milliseconds(Int64(timeouts.header * 1000))
        let bodyTimeout = TimeAmount.milliseconds(Int64(timeouts.body * 1000))
        let app = Application(
            router: router,
            server: .http1(configuration: .init(
                additionalChannelHandlers: [RequestDeadlineHandler(headerTimeout: headerTimeout, bodyTimeout: bodyTimeout, onTimeout: onSlowClient)],
                idleTimeout: .milliseconds(Int64(timeouts.idle * 1000)))),
            configuration: .init(address: .hostname(host, port: port), serverName: "gascli", reuseAddress: true),
            services: services,
            onServerRunning: { channel in bound.set(.success(channel.localAddress?.port ?? port)) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: signals, logger: logger))
        let task = Task {
            do {
                try await group.run()
                bound.set(.failure(NetworkError.server("the server stopped before it was listening")))
            } catch {
                bound.set(.failure(NetworkError.server("cannot listen on \(host):\(port): \(error)")))
                throw error
            }
        }
        let actual = try await bound.wait()
        return RunningServer(host: host, port: actual, group: group, task: task)
    }

    /// Graceful shutdown: stop accepting, let in-flight requests finish, return when stopped.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    /// Serves until a shutdown signal (or `stop()`).
    public func wait() async throws {
        try await task.value
    }
}

/// A value set once from a callback and awaited.
final class BoundPort: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<Int, any Error>?
    private var waiter: CheckedContinuation<Int, any Error>?

    func set(_ r: Result<Int, any Error>) {
        let w: CheckedContinuation<Int, any Error>? = lock.withLock {
            guard result == nil else { return nil }
            result = r
            defer { waiter = nil }
            return waiter
        }
        w?.resume(with: r)
    }

    func wait() async throws -> Int {
        try await withCheckedThrowingContinuation { c in
            let ready: Result<Int, any Error>? = lock.withLock {
                if let result { return result }
                waiter = c
                return nil
            }
            if let ready { c.resume(with: ready) }
        }
    }
}

public enum NetworkError: Error, CustomStringConvertible {
    case server(String)
    case config(String)
    public var description: String {
        switch self {
        case let .server(s): s
        case let .config(s): s
        }
    }
}

/// Helpers for handlers: bounded body reads, JSON and text responses, header lookup.
enum HTTPHelpers {
    struct BodyTooLarge: Error {}

    /// Reads the body up to `limit` bytes; a declared or actual larger body throws `BodyTooLarge`.
    static func collect(_ request: Request, limit: Int) async throws -> [UInt8] {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit { throw BodyTooLarge() }
        var out: [UInt8] = []
        for try await chunk in request.body {
            if out.count + chunk.readableBytes > limit { throw BodyTooLarge() }
            out.append(contentsOf: chunk.readableBytesView)
        }
        return out
    }

    static func header(_ request: Request, _ name: String) -> String? {
        let lower = name.lowercased()
        return request.headers.first { $0.name.canonicalName == lower }?.value
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: Int, _ message: String) -> Response {
        json(HTTPResponse.Status(code: status), ["error": message, "status": status])
    }
}
