import Foundation
import GASCore
import Testing
@testable import GASDetectors

#if canImport(Glibc)
import Glibc
#endif

/// End-to-end tests with real child processes (the example detector and the fixture scripts).
@Suite("ProcessDetector")
struct ProcessDetectorTests {

    @Test("example detector scores real PNG/JPEG files and reports unreadable ones per item")
    func happyPath() async throws {
        let dir = try Fixtures.tempDirectory("images")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Fixtures.run(["/usr/bin/env", "python3", Fixtures.path("make_images.py"), dir])
        try Fixtures.tinyJPEG.write(to: URL(fileURLWithPath: dir + "/photo.jpg"))

        let detector = ProcessDetector(config: config("example", Fixtures.exampleCommand()))
        let hello = try await detector.start()
        #expect(hello == DetectorHello(name: "example", protocolVersion: 1, modalities: [.image]))
        let pid = try #require(await detector.processID)

        let batch = [
            DetectorInput(sampleID: "smooth", path: dir + "/smooth.png", modality: .image, seed: 1),
            DetectorInput(sampleID: "noisy \"quoted\" \\ id\nwith newline ✓", path: dir + "/noisy.png", modality: .image, seed: 2),
            DetectorInput(sampleID: "photo", path: dir + "/photo.jpg", modality: .image, seed: UInt64.max),
            DetectorInput(sampleID: "broken", path: dir + "/broken.png", modality: .image, seed: 4),
            DetectorInput(sampleID: "missing", path: dir + "/missing.png", modality: .image, seed: 5),
            DetectorInput(sampleID: "sound", path: dir + "/smooth.png", modality: .audio, seed: 6),
        ]
        let results = await detector.predict(batch)
        #expect(results.count == batch.count)
        let smooth = try #require(results[0].probs)
        let noisy = try #require(results[1].probs)
        let photo = try #require(results[2].probs)
        #expect(smooth.count == 2 && noisy.count == 2 && photo.count == 2)
        #expect(smooth[1] < 0.1, "a smooth gradient has no chroma noise: p(AI) should be low, got \(smooth)")
        #expect(noisy[1] > 0.9, "independent per-channel noise is the example's AI cue: p(AI) should be high, got \(noisy)")
        #expect(abs(smooth[0] + smooth[1] - 1) < 1e-5)
        #expect(results[3].failureMessage?.contains("not a PNG or JPEG") == true, "\(results[3])")
        #expect(results[4].failureMessage?.contains("could not read") == true, "\(results[4])")
        #expect(results[5].failureMessage?.contains("unsupported modality") == true, "\(results[5])")

        // Same answers on a second batch; the process is reused.
        let again = await detector.predict(Array(batch.prefix(1)))
        #expect(again == Array(results.prefix(1)))
        #expect(await detector.processID == pid)
        #expect(await detector.drainWarnings().isEmpty)
        #expect(await detector.predict([]).isEmpty)

        await detector.stop()
        #expect(processDoesNotExist(pid), "the stopped detector must be reaped, not left as a zombie")
        #expect(await detector.processID == nil)
    }

    @Test("start() rejects a detector that lacks a required modality")
    func missingModalities() async throws {
        var cfg = config("example", Fixtures.exampleCommand())
        cfg.requiredModalities = [.image, .video]
        let detector = ProcessDetector(config: cfg)
        let error = await #expect(throws: DetectorError.self) { try await detector.start() }
        guard case let .missingModalities(name, _, offered)? = error else {
            Issue.record("unexpected error \(String(describing: error))")
            return
        }
        #expect(name == "example")
        #expect(offered == [.image])
        #expect(error?.description.contains("does not handle video") == true)
        #expect(await detector.processID == nil)
    }

    @Test("start() rejects an unknown protocol version")
    func protocolVersion() async throws {
        let script = "import json,sys,time; print(json.dumps({'hello': {'protocol': 2, 'modalities': ['image']}}), flush=True); time.sleep(30)"
        let detector = ProcessDetector(config: config("v2", ["/usr/bin/env", "python3", "-c", script]))
        let error = await #expect(throws: DetectorError.self) { try await detector.start() }
        #expect(error == .unsupportedProtocol(name: "v2", version: 2))
        #expect(error?.description.contains("only speaks version 1") == true)
    }

    @Test("crash mid-batch: failures name the exit status, restart, then the budget runs out")
    func crashAndRestartBudget() async throws {
        let detector = ProcessDetector(config: config("crashy", Fixtures.command("crash_mid_batch.py"), maxRestarts: 1))
        _ = try await detector.start()
        let firstPID = try #require(await detector.processID)

        let b1 = await detector.predict(makeInputs(3))
        #expect(b1 == Array(repeating: .probabilities([0.25, 0.75]), count: 3))

        let b2 = await detector.predict(makeInputs(3))
        #expect(b2.count == 3)
        for r in b2 {
            #expect(r.failureStatus == .error)
            let m = r.failureMessage ?? ""
            #expect(m.hasPrefix("detector exited with status 3 while processing batch 2; last stderr: "), "\(m)")
            #expect(m.contains("simulated crash in batch 2"), "\(m)")
        }
        #expect(await detector.processID == nil)
        #expect(processDoesNotExist(firstPID) || processIsDead(firstPID))

        // Restart #1: the fresh process answers its first batch again.
        let b3 = await detector.predict(makeInputs(2))
        #expect(b3 == Array(repeating: .probabilities([0.25, 0.75]), count: 2))
        #expect(await detector.restartCount == 1)
        let b4 = await detector.predict(makeInputs(2))
        #expect(b4.allSatisfy { $0.failureMessage?.contains("exited with status 3 while processing batch 4") == true }, "\(b4)")

        // Budget used up: immediate failures, no new process. (No tight time bound: on a machine
        // loaded by the rest of the suite an await alone can take seconds; the restart count and
        // the missing process say that nothing was started.)
        let (b5, seconds) = await timed { await detector.predict(makeInputs(4)) }
        #expect(seconds < 60, "took \(seconds)s")
        #expect(await detector.restartCount == 1)
        #expect(b5.count == 4)
        #expect(b5.allSatisfy { $0.failureMessage?.hasPrefix("detector disabled after 1 restart: detector exited with status 3") == true }, "\(b5)")
        #expect(await detector.processID == nil)
        let b6 = await detector.predict(makeInputs(1))
        #expect(b6 == [b5[0]])
        await detector.stop()
    }

    @Test("hang: no response within the batch timeout kills the process group, restarts, then gives up")
    func hangTimesOut() async throws {
        let detector = ProcessDetector(config: config("hang", Fixtures.command("hang.py"), batchTimeout: 1, maxRestarts: 1))
        _ = try await detector.start()
        let pid = try #require(await detector.processID)

        let (r1, s1) = await timed { await detector.predict(makeInputs(3)) }
        // Upper bounds here and below only prove that nothing hangs: the whole suite runs in parallel
        // on 2 cores, where synchronous end-to-end tests can hold the thread pool for half a minute.
        #expect(s1 >= 0.9 && s1 < 120, "took \(s1)s")
        #expect(r1.allSatisfy { $0.failureStatus == .timeout })
        let message = r1[0].failureMessage ?? ""
        #expect(message.hasPrefix("no response within 1s"), "\(message)")

        // The whole process group is killed: the detector and the grandchild it started.
        #expect(await eventually { processDoesNotExist(pid) }, "the hung detector must be killed and reaped")
        let grandchild = message.split(separator: " ").drop { $0 != "pid" }.dropFirst().first.flatMap { Int32($0) }
        let gpid = try #require(grandchild, "grandchild pid in \(message)")
        #expect(await eventually { processIsDead(gpid) }, "grandchild \(gpid) must be killed with the process group")

        let (r2, s2) = await timed { await detector.predict(makeInputs(2)) }
        #expect(s2 >= 0.9 && s2 < 120, "took \(s2)s")
        #expect(r2.allSatisfy { $0.failureStatus == .timeout })
        #expect(await detector.restartCount == 1)

        // Disabled: answered at once, nothing started (no tight time bound on a loaded machine).
        let (r3, s3) = await timed { await detector.predict(makeInputs(2)) }
        #expect(s3 < 60, "took \(s3)s")
        #expect(await detector.restartCount == 1)
        #expect(await detector.processID == nil)
        #expect(r3.allSatisfy { $0.failureStatus == .error && $0.failureMessage?.hasPrefix("detector disabled after 1 restart: no response within 1s") == true }, "\(r3)")
        await detector.stop()
    }

    @Test("garbage on stdout is a protocol violation that shows the start of the line")
    func garbage() async throws {
        let detector = ProcessDetector(config: config("garbage", Fixtures.command("garbage.py"), maxRestarts: 1))
        _ = try await detector.start()
        let r1 = await detector.predict(makeInputs(2))
        let m = r1[0].failureMessage ?? ""
        #expect(r1.allSatisfy { $0.failureStatus == .error })
        #expect(m.hasPrefix("protocol violation: line is not valid JSON"), "\(m)")
        #expect(m.hasSuffix(#"line starts with: Loading weights... 100%\t\"done\" {not json"#), "\(m)")
        #expect(await detector.processID == nil, "a detector in an unknown state is killed")
        let r2 = await detector.predict(makeInputs(2))
        #expect(r2[0].failureMessage?.hasPrefix("protocol violation") == true)
        #expect(await detector.restartCount == 1)
        let r3 = await detector.predict(makeInputs(1))
        #expect(r3[0].failureMessage?.hasPrefix("detector disabled after 1 restart: protocol violation") == true, "\(r3)")
    }

    @Test("unknown ids, duplicate ids and stray responses become warnings; missing ids fail per item")
    func unknownIDs() async throws {
        let detector = ProcessDetector(config: config("unknown", Fixtures.command("unknown_ids.py")))
        _ = try await detector.start()
        let results = await detector.predict(makeInputs(3))
        #expect(results.count == 3)
        #expect(results[0] == .probabilities([0.3, 0.7]), "first result for a duplicated id wins")
        #expect(results[1] == .failure(.error, "detector returned no result for this sample"))
        #expect(results[2] == .failure(.error, "detector returned no result for this sample"))
        let warnings = await detector.drainWarnings()
        #expect(warnings.contains { $0.contains("ignored a response for batch 1001 while waiting for batch 1") }, "\(warnings)")
        #expect(warnings.contains { $0.contains("ids not in the batch") && $0.contains("\"made-up-1\"") && $0.contains("\"made-up-2\"") }, "\(warnings)")
        #expect(warnings.contains { $0.contains("duplicate") && $0.contains("\"s0\"") }, "\(warnings)")
        #expect(warnings.contains { $0.contains("not objects") }, "\(warnings)")
        #expect(await detector.drainWarnings().isEmpty, "drain empties the list")
        #expect(await detector.processID != nil, "wrong ids do not kill the detector")
        await detector.stop()
    }

    @Test("bad probabilities become per-item errors; valid ones pass")
    func badProbs() async throws {
        let detector = ProcessDetector(config: config("bad", Fixtures.command("bad_probs.py")))
        _ = try await detector.start()
        let r = await detector.predict(makeInputs(12))
        #expect(r.count == 12)
        #expect(r[0] == .failure(.error, "invalid probs: element 0 is NaN"))
        #expect(r[1] == .failure(.error, "invalid probs: element 0 is 1.5, outside [0, 1]"))
        #expect(r[2] == .failure(.error, "invalid probs: expected a list of 1-3 numbers, got 4"))
        #expect(r[3] == .probabilities([0.2, 0.8]))
        #expect(r[4] == .failure(.error, "invalid probs: expected a list of 1-3 numbers, got a string"))
        #expect(r[5] == .failure(.error, "invalid probs: expected a list of 1-3 numbers, got 0"))
        #expect(r[6] == .failure(.error, "invalid probs: element 0 is -0.1, outside [0, 1]"))
        #expect(r[7] == .failure(.error, "detector reported: could not read"))
        #expect(r[8] == .failure(.error, "invalid probs: element 0 is inf, outside [0, 1]"))
        #expect(r[9] == .probabilities([0.1, 0.6, 0.3]))
        #expect(r[10] == .failure(.error, "result has neither \"probs\" nor \"error\""))
        #expect(r[11].failureMessage?.contains("bare number 0.7") == true, "\(r[11])")
        #expect(await detector.processID != nil, "bad values do not kill the detector")
        await detector.stop()
    }

    @Test("a detector that never says hello fails start() within the startup timeout")
    func noHello() async throws {
        var cfg = config("silent", Fixtures.command("no_hello.py"))
        // 2 s, not 1: `python3` here may be a pyenv shim (a bash script) that alone takes 0.25 s
        // to start, much more while the other tests run in parallel; the stderr check needs Python up.
        cfg.startupTimeout = 2
        let detector = ProcessDetector(config: cfg)
        let (error, seconds) = await timed {
            await #expect(throws: DetectorError.self) { try await detector.start() }
        }
        #expect(seconds >= 1.9 && seconds < 120, "took \(seconds)s")
        guard case let .startupTimeout(name, timeout, tail)? = error else {
            Issue.record("unexpected error \(String(describing: error))")
            return
        }
        #expect(name == "silent" && timeout == 2)
        #expect(tail.contains("loading a very large model"), "\(tail)")
        #expect(error!.description.hasPrefix("detector 'silent' did not send its hello line within 2s"), "\(error!)")
        #expect(await detector.processID == nil)
    }

    @Test("a detector that exits before hello reports its status and stderr")
    func exitsBeforeHello() async throws {
        let script = "import sys; sys.stderr.write('ImportError: no module named torch\\n'); sys.exit(7)"
        let detector = ProcessDetector(config: config("quitter", ["/usr/bin/env", "python3", "-c", script]))
        let error = await #expect(throws: DetectorError.self) { try await detector.start() }
        #expect(error == .exitedDuringStartup(name: "quitter", status: "exited with status 7", stderrTail: "ImportError: no module named torch"))
        #expect(error?.description == "detector 'quitter' exited with status 7 before sending its hello line; run its command by hand to see why; last stderr: ImportError: no module named torch.")
    }

    @Test("a command that cannot run fails start() with launchFailed and says what to fix")
    func launchFailures() async throws {
        func launchError(_ command: [String], workingDirectory: String? = nil) async -> DetectorError? {
            var cfg = config("broken", command)
            cfg.workingDirectory = workingDirectory
            let detector = ProcessDetector(config: cfg)
            return await #expect(throws: DetectorError.self) { try await detector.start() }
        }
        let missingPath = await launchError(["/nonexistent/detector-bin", "--flag"])
        guard case let .launchFailed(name, command, reason)? = missingPath else {
            Issue.record("unexpected \(String(describing: missingPath))")
            return
        }
        #expect(name == "broken" && command == ["/nonexistent/detector-bin", "--flag"])
        #expect(reason.contains("'/nonexistent/detector-bin' does not exist"), "\(reason)")

        let notOnPath = await launchError(["gascli-no-such-detector-xyz"])
        #expect(notOnPath?.description.contains("'gascli-no-such-detector-xyz' was not found on PATH") == true, "\(String(describing: notOnPath))")
        #expect(notOnPath?.description.contains("use an absolute path") == true)

        // Fixture scripts are not executable: the hint says how to run them.
        let notExecutable = await launchError([Fixtures.path("garbage.py")])
        #expect(notExecutable?.description.contains("is not executable") == true, "\(String(describing: notExecutable))")
        #expect(notExecutable?.description.contains("python3") == true)

        let badDirectory = await launchError(Fixtures.exampleCommand(), workingDirectory: "/nonexistent/dir")
        #expect(badDirectory?.description.contains("working directory '/nonexistent/dir' does not exist") == true)

        let empty = await launchError([])
        #expect(empty?.description.contains("the command is empty") == true)

        // predict() without a successful start tries to launch and fails every item, without hanging.
        let detector = ProcessDetector(config: config("broken", ["/nonexistent/detector-bin"], maxRestarts: 0))
        let r = await detector.predict(makeInputs(2))
        #expect(r.allSatisfy { $0.failureMessage?.hasPrefix("could not start detector: detector 'broken' could not be started") == true }, "\(r)")
        let r2 = await detector.predict(makeInputs(2))
        #expect(r2.allSatisfy { $0.failureMessage?.hasPrefix("detector disabled after 0 restarts") == true }, "\(r2)")
    }

    @Test("working directory and extra environment reach the detector")
    func workingDirectoryAndEnvironment() async throws {
        let dir = try Fixtures.tempDirectory("cwd")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = """
            import json, os, sys
            fds = sorted(int(f) for f in os.listdir('/proc/self/fd'))
            print(json.dumps({'hello': {'protocol': 1, 'name': os.getcwd() + '|' + os.environ.get('GAS_TEST_VAR', '') + '|' + str(fds), 'modalities': ['image']}}), flush=True)
            sys.stdin.read()
            """
        var cfg = config("env", ["python3", "-c", script])
        cfg.workingDirectory = dir
        cfg.environment = ["GAS_TEST_VAR": "hello world"]
        let detector = ProcessDetector(config: cfg)
        let hello = try await detector.start()
        let realDir = URL(fileURLWithPath: dir).resolvingSymlinksInPath().path
        let parts = (hello.name ?? "").split(separator: "|").map(String.init)
        #expect(parts.count == 3)
        #expect(parts.first == realDir || parts.first == dir, "\(parts)")
        #expect(parts.dropFirst().first == "hello world")
        // Only stdin/stdout/stderr (plus the fd listdir itself opened): no pipe of another detector leaks in.
        #expect(parts.last == "[0, 1, 2, 3]", "open fds in the detector: \(parts.last ?? "?")")
        await detector.stop()
    }

    @Test("a detector that exited between batches is restarted before the next request")
    func diedBetweenBatches() async throws {
        let script = """
            import json, sys
            print(json.dumps({'hello': {'protocol': 1, 'modalities': ['image']}}), flush=True)
            msg = json.loads(sys.stdin.readline())
            print(json.dumps({'batch': msg['batch'], 'results': [{'id': i['id'], 'probs': [0.1]} for i in msg['items']]}), flush=True)
            sys.exit(0)
            """
        let detector = ProcessDetector(config: config("once", ["/usr/bin/env", "python3", "-c", script], maxRestarts: 3))
        _ = try await detector.start()
        let pid = try #require(await detector.processID)
        #expect(await detector.predict(makeInputs(2)) == [.probabilities([0.1]), .probabilities([0.1])])
        #expect(await eventually { processDoesNotExist(pid) })
        #expect(await detector.predict(makeInputs(2)) == [.probabilities([0.1]), .probabilities([0.1])])
        #expect(await detector.restartCount == 1)
        await detector.stop()
    }

    @Test("unsolicited output between batches is back-pressured, skipped with capped warnings")
    func unsolicitedOutput() async throws {
        let script = """
            import json, sys
            print(json.dumps({'hello': {'protocol': 1, 'modalities': ['image']}}), flush=True)
            sys.stdout.write('{"batch": 0, "results": []}\\n\\n' * 20000)
            sys.stdout.flush()
            for line in sys.stdin:
                msg = json.loads(line)
                if 'batch' in msg:
                    print(json.dumps({'batch': msg['batch'], 'results': [{'id': i['id'], 'probs': [0.9]} for i in msg['items']]}), flush=True)
            """
        let detector = ProcessDetector(config: config("chatty", ["/usr/bin/env", "python3", "-c", script]))
        _ = try await detector.start()
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(await detector.predict(makeInputs(3)) == Array(repeating: .probabilities([0.9]), count: 3))
        let warnings = await detector.drainWarnings()
        #expect(warnings.count == 1001, "1000 kept plus a note")
        #expect(warnings.first == "ignored a response for batch 0 while waiting for batch 1")
        #expect(warnings.last == "19000 more warning(s) were dropped")
        await detector.stop()
    }

    @Test("a detector that closes stdin (EPIPE/SIGPIPE on write) times out without hurting the runner")
    func closedStdin() async throws {
        let script = """
            import json, os, sys, time
            print(json.dumps({'hello': {'protocol': 1, 'modalities': ['image']}}), flush=True)
            os.close(0)
            time.sleep(60)
            """
        let detector = ProcessDetector(config: config("deaf", ["/usr/bin/env", "python3", "-c", script], batchTimeout: 1, maxRestarts: 0))
        _ = try await detector.start()
        try await Task.sleep(nanoseconds: 200_000_000)  // let it close stdin
        let big = makeInputs(2000, prefix: String(repeating: "x", count: 100))  // > 64 KiB pipe buffer
        let (r, seconds) = await timed { await detector.predict(big) }
        #expect(seconds < 120)
        #expect(r.count == 2000)
        // Normally the batch times out; on a loaded machine the write can instead meet the closed
        // pipe (EPIPE) first, which is an error outcome. Either way nothing hangs or crashes.
        #expect(r.allSatisfy { $0.failureStatus == .timeout || $0.failureStatus == .error })
    }

    @Test("20 MiB without a newline is a bounded protocol violation")
    func flood() async throws {
        let detector = ProcessDetector(config: config("flood", Fixtures.command("flood.py"), maxRestarts: 0))
        _ = try await detector.start()
        let pid = try #require(await detector.processID)
        let (r, seconds) = await timed { await detector.predict(makeInputs(2)) }
        #expect(seconds < 120, "took \(seconds)s")
        let m = r[0].failureMessage ?? ""
        #expect(m.hasPrefix(#"protocol violation: stdout line longer than 8388608 bytes (maxLineBytes), line starts with: {\"batch\": 1, \"results\": [xxxx"#), "\(m.prefix(300))")
        #expect(m.count < 400)
        #expect(await eventually { processDoesNotExist(pid) })
        let r2 = await detector.predict(makeInputs(1))
        #expect(r2[0].failureMessage?.hasPrefix("detector disabled after 0 restarts: protocol violation") == true)
    }

    @Test("endless stderr stays bounded in memory and in the log file; answers are fine")
    func stderrFlood() async throws {
        let dir = try Fixtures.tempDirectory("stderr")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let logPath = dir + "/logs/detector.stderr.log"
        var cfg = config("noisy", Fixtures.command("stderr_flood.py"))
        cfg.stderrLogPath = logPath
        cfg.stderrLogMaxBytes = 1 << 20
        let detector = ProcessDetector(config: cfg)
        _ = try await detector.start()
        for _ in 0..<8 {
            let r = await detector.predict(makeInputs(4))
            #expect(r == Array(repeating: .probabilities([0.4, 0.6]), count: 4))
        }
        #expect(await eventually { await detector.stderrTail().contains("finished batch 8") } )
        let seen = await detector.stderrBytesSeen
        let held = await detector.stderrBytesInMemory
        #expect(seen > 16_000_000, "the detector wrote \(seen) bytes to stderr")
        #expect(held <= 64 * 1024, "ring holds \(held) bytes")
        let tail = await detector.stderrTail()
        #expect(tail.count < 1200, "tail is short: \(tail.count) chars")
        await detector.stop()
        let logSize = try FileManager.default.attributesOfItem(atPath: logPath)[.size] as? Int ?? -1
        #expect(logSize > 0 && logSize <= (1 << 20) + 200, "log file has \(logSize) bytes")
        let log = try String(contentsOfFile: logPath, encoding: .utf8)
        #expect(log.contains("stderr log reached its limit"))
        #expect(log.hasPrefix("[gascli: detector started: pid "))
    }

    @Test("stop() escalates to SIGTERM/SIGKILL for a detector that ignores shutdown, and reaps it")
    func stubbornShutdown() async throws {
        var cfg = config("stubborn", Fixtures.command("stubborn.py"))
        cfg.shutdownGracePeriod = 0.5
        let detector = ProcessDetector(config: cfg)
        _ = try await detector.start()
        let pid = try #require(await detector.processID)
        #expect(await detector.predict(makeInputs(1)) == [.probabilities([0.5])])
        let (_, seconds) = await timed { await detector.stop() }
        #expect(seconds >= 0.4 && seconds < 120, "took \(seconds)s")
        #expect(processDoesNotExist(pid))
        #expect(await detector.predict(makeInputs(1)) == [.failure(.error, "detector 'stubborn' was stopped")])
    }

    @Test("stop() interrupts an in-flight batch promptly")
    func stopInterruptsBatch() async throws {
        // A batch timeout far beyond the stop, so the stop ends the batch even when a busy machine
        // (the whole suite runs in parallel on 2 cores) delays this test by tens of seconds.
        let detector = ProcessDetector(config: config("hang", Fixtures.command("hang.py"), batchTimeout: 300))
        _ = try await detector.start()
        let pid = try #require(await detector.processID)
        let pending = Task { await detector.predict(makeInputs(2)) }
        try await Task.sleep(nanoseconds: 300_000_000)
        let (_, seconds) = await timed { await detector.stop() }
        let r = await pending.value
        #expect(seconds < 120, "took \(seconds)s")
        #expect(r.allSatisfy { $0.failureMessage == "detector was stopped while processing batch 1" }, "\(r)")
        #expect(processDoesNotExist(pid))
    }

    @Test("concurrent predict calls are serialized and each gets its own answers")
    func concurrentCalls() async throws {
        let detector = ProcessDetector(config: config("noop", Fixtures.exampleCommand("--noop")))
        _ = try await detector.start()
        let all = await withTaskGroup(of: (Int, [DetectorResult]).self) { group in
            for i in 0..<8 {
                group.addTask { (i, await detector.predict(makeInputs(5 + i, prefix: "t\(i)-"))) }
            }
            var out: [Int: [DetectorResult]] = [:]
            for await (i, r) in group { out[i] = r }
            return out
        }
        for i in 0..<8 {
            #expect(all[i] == Array(repeating: .probabilities([0.5, 0.5]), count: 5 + i))
        }
        #expect(await detector.drainWarnings().isEmpty)
        await detector.stop()
    }

    @Test("throughput with a no-op Python detector at batch size 64 (printed, not asserted)")
    func noopThroughput() async throws {
        let detector = ProcessDetector(config: config("noop", Fixtures.exampleCommand("--noop")))
        _ = try await detector.start()
        let batches = (0..<400).map { b in
            (0..<64).map { i in
                DetectorInput(sampleID: "sample-\(b)-\(i)", path: "/data/images/sample-\(b)-\(i).png", modality: .image, seed: UInt64(b * 64 + i))
            }
        }
        _ = await detector.predict(batches[0])  // warm-up
        var ok = 0
        let (_, seconds) = await timed {
            for batch in batches {
                for r in await detector.predict(batch) where r.probs != nil { ok += 1 }
            }
        }
        #expect(ok == 400 * 64)
        let rate = Double(ok) / seconds
        print("no-op process detector throughput: \(Int(rate)) samples/s (\(ok) samples in \(String(format: "%.2f", seconds)) s, batch size 64, \(String(format: "%.0f", 1e6 * seconds / 400)) µs per batch)")
        await detector.stop()
    }
}
