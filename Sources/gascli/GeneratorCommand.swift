import ArgumentParser
import Foundation
import GASNetwork
import GASSpec
import Logging
import ServiceLifecycle

struct GeneratorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generator",
        abstract: "Run a generator miner: an HTTP server that answers validator challenges with media.",
        subcommands: [Start.self, Bench.self, Load.self],
        aliases: ["g", "gen"])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve generation requests until SIGTERM or Ctrl-C.",
            discussion: """
                Example:
                  gascli keys new -o keys/generator.json
                  gascli generator start --config configs/generator.yaml
                  gascli g start --config configs/generator.yaml --port 8092

                Endpoints: POST /gen_image and /gen_video (Epistula-signed JSON {"prompt", "parameters":
                {"resolution", "seed"}} with an X-Webhook-URL header; answered 202 with a task_id, the media
                is POSTed to the webhook later, signed), GET /health, GET /miner_info (signed).
                Only validators whose public keys are listed under 'validators' are served.
                On SIGTERM or SIGINT the server stops accepting, finishes accepted tasks (up to 10 s) and exits 0.
                """)

        @Option(help: "Generator config (YAML): listen, key, validators, backend, limits, delivery.")
        var config: String

        @Option(help: "Listen on this port instead of the config's (0 = any free port).")
        var port: Int?

        func run() async throws {
            var settings: GeneratorServerConfig
            let signer: Ed25519Signer
            do {
                settings = try GeneratorConfigLoader.load(path: config)
                if let port { settings.port = port }
                signer = try KeyFile.load(path: settings.keyFile).signer()
            } catch {
                throw Diagnostics.exitCode(for: error)
            }
            let backend: any GenerationBackend
            switch settings.backend {
            case let .builtin(sizes): backend = BuiltinBackend(sizes: sizes)
            case let .command(argv, timeout, maxOutput, wd):
                backend = CommandBackend(argv: argv, timeoutSeconds: timeout, maxOutputBytes: maxOutput, workingDirectory: wd)
            }
            var logger = Logger(label: "gascli.generator")
            logger.logLevel = .notice
            do {
                let server = try await GeneratorServer.start(config: settings, signer: signer, backend: backend,
                                                             signals: [.sigterm, .sigint], logger: logger)
                // Unbuffered: a supervisor or test reading the pipe sees it at once.
                FileHandle.standardOutput.write(Data("generator \(signer.identity) listening on \(server.baseURL) (backend \(backend.name), \(settings.validators.count) validator key(s))\n".utf8))
                try await server.wait()
                FileHandle.standardOutput.write(Data("generator stopped\n".utf8))
            } catch {
                Diagnostics.printError("\(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure signed requests per second against a generator server on loopback.",
            discussion: """
                Example:
                  gascli generator bench --requests 5000 --concurrency 16 --duration 20

                Starts a generator server on 127.0.0.1 (a free port) and sends Epistula-signed requests,
                each verified by the server (signature, signer, ±15 s timestamp, replay cache). Prints
                requests/s, p50/p99 latency and the process's peak resident memory. Not a test: the numbers
                depend on the machine and its load.
                """)

        @Option(help: "Requests to send.")
        var requests = 5000

        @Option(help: "Requests in flight at once.")
        var concurrency = 16

        @Option(help: "Stop after this many seconds even if requests remain.")
        var duration: Double = 30

        func run() async throws {
            guard requests > 0, concurrency > 0, concurrency <= 1024, duration > 0 else {
                Diagnostics.printError("requests, concurrency (≤ 1024) and duration must be positive")
                throw ExitCode(2)
            }
            let r = try await SigningBenchmark.run(requests: requests, concurrency: concurrency, maxSeconds: duration)
            print("signed requests: \(r.requests) in \(String(format: "%.2f", r.seconds)) s, concurrency \(concurrency)")
            print("  ok \(r.ok), failed \(r.failed)" + (r.statusCounts.count > 1 ? " (statuses \(r.statusCounts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")))" : ""))
            print(String(format: "  %.0f requests/s, latency p50 %.2f ms, p99 %.2f ms, max %.2f ms", r.requestsPerSecond, r.p50Ms, r.p99Ms, r.maxMs))
            if let rss = r.peakRSSKiB { print(String(format: "  peak RSS (VmHWM) %.1f MiB", Double(rss) / 1024)) }
        }
    }

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mixed hostile load on loopback against the generator server or the validator webhook, with an account of every request.",
            discussion: """
                Example:
                  gascli generator load --target webhook --requests 4000 --concurrency 16 --slow-clients 8
                  gascli generator load --target generator --requests 2000

                Starts the target on 127.0.0.1 (a free port) and sends a bounded mix: 6 in 10 valid signed
                requests, 2 with a bad signature, 1 replay of an answered valid request, 1 oversized body;
                meanwhile slow clients send their request head one byte every 200 ms. Prints sustained
                requests/s, p50/p99 latency, peak memory, and per kind what the server answered. Exits 1
                unless every valid request took effect (generator: delivered to the webhook; webhook:
                stored), every bad one was refused with its status (401, 409, 413) and every slow client
                was cut off. Loopback only; the figures depend on the machine and its load.
                """)

        @Option(help: "What to load: generator (POST /gen_image) or webhook (POST /generative_callback).")
        var target: String = "webhook"

        @Option(help: "Requests to send (slow clients not counted).")
        var requests = 2000

        @Option(help: "Clients sending at once.")
        var concurrency = 16

        @Option(name: .customLong("slow-clients"), help: "Slow-loris connections held open meanwhile.")
        var slowClients = 8

        @Option(help: "Stop sending after this many seconds even if requests remain.")
        var duration: Double = 60

        @Option(name: .customLong("header-timeout"), help: "The server's header deadline in seconds: slow clients must be cut off by it.")
        var headerTimeout: Double = 2

        func run() async throws {
            guard let target = LoadTest.Target(rawValue: target) else {
                Diagnostics.printError("--target must be generator or webhook, not '\(target)'")
                throw ExitCode(2)
            }
            guard requests > 0, concurrency > 0, concurrency <= 512, slowClients >= 0, slowClients <= 512, duration > 0, headerTimeout > 0 else {
                Diagnostics.printError("requests, concurrency (≤ 512), duration and header-timeout must be positive; slow-clients 0…512")
                throw ExitCode(2)
            }
            let work = (NSTemporaryDirectory() as NSString).appendingPathComponent("gascli-load-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let report = try await LoadTest.run(LoadTest.Options(target: target, requests: requests, concurrency: concurrency,
                                                                 slowClients: slowClients, maxSeconds: duration,
                                                                 headerTimeoutSeconds: headerTimeout, workDirectory: work))
            print(report.text)
            if !report.allRight { throw ExitCode(1) }
        }
    }
}
