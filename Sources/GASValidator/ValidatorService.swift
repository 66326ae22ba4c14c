import Foundation
import GASSpec
import Logging
import ServiceLifecycle

/// The engine as a swift-service-lifecycle service: SIGTERM and SIGINT trigger a graceful
/// shutdown, which lets the running round commit its current batch and stop.
public struct ValidatorService: Service {
    public let engine: ValidatorEngine
    public init(engine: ValidatorEngine) { self.engine = engine }

    public func run() async throws {
        let engine = self.engine
        try await withGracefulShutdownHandler {
            try await engine.run()
        } onGracefulShutdown: {
            engine.stop.set()
        }
    }
}

public enum ValidatorLauncher {
    /// Runs the service in a `ServiceGroup` until a signal or `untilBlock`.
    public static func start(config: ValidatorConfig, untilBlock: Int64?, log: @escaping @Sendable (String) -> Void) async throws {
        let engine = try ValidatorEngine(config: config, options: EngineOptions(untilBlock: untilBlock, log: log))
        var logger = Logger(label: "gascli.validator") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: ValidatorService(engine: engine), successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

/// Records an invalid config in the state database it names (when the state directory can be
/// read from it), so `validator status` and audits see why the service did not start.
public enum ValidatorConfigProblems {
    public static func record(configPath: String, errors: SpecErrors) {
        guard let dir = ValidatorConfigLoader.stateDirectory(path: configPath),
              let store = try? StateStore(path: (dir as NSString).appendingPathComponent("validator.sqlite")) else { return }
        for e in errors.errors {
            _ = try? store.event("error", "config_error", subject: configPath, e.description)
        }
    }
}
