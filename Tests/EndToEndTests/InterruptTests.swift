import Foundation
import Testing
import GASTestSupport

/// Ctrl-C while a detector is busy: gascli exits 130, says what was kept, and leaves no detector
/// process behind (detectors run in their own process groups, out of reach of the terminal).
@Suite struct InterruptTests {
    @Test func sigintStopsTheRunAndItsDetectors() async throws {
        try await offPool { try Self().sigintStopsTheRunAndItsDetectorsBody() }
    }

    func sigintStopsTheRunAndItsDetectorsBody() throws {
        let f = try RoundFixture("interrupt")
        try f.copyPhotos(2)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.write("slow.py", """
        import json, os, sys, time
        open(sys.argv[1], "w").write(str(os.getpid()))
        print(json.dumps({"hello": {"protocol": 1, "name": "slow", "modalities": ["image"]}}), flush=True)
        for line in sys.stdin:
            time.sleep(3600)
        """)
        try f.write("spec.yaml", f.spec(real: "samples: 2", synthetic: 2,
                                        detectors: "  - {name: slow, adapter: process, command: [python3, slow.py, \(f.path("pid"))], timeout: 10m}"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Gascli.binary)
        process.arguments = ["run", "spec.yaml"]
        process.currentDirectoryURL = URL(fileURLWithPath: f.root)
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait until the detector is up and busy.
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: f.path("pid")) && Date() < deadline { usleep(100_000) }
        usleep(1_000_000)
        let pid = try #require(Int32((try? String(contentsOfFile: f.path("pid"), encoding: .utf8)) ?? ""))
        #expect(kill(pid, 0) == 0, "detector is running")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 130)
        #expect(stderr.contains("interrupted"))
        var gone = false
        for _ in 0..<50 where !gone {
            gone = !Self.isAlive(pid)
            if !gone { usleep(100_000) }
        }
        #expect(gone, "the detector process \(pid) outlived the run")
    }

    /// Running, not merely a zombie waiting for whoever adopted it to reap it.
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)...].prefix(1)
        return state != "Z" && state != "X"
    }
}
