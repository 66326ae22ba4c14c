import Foundation
import Testing
import GASTestSupport

/// The disk fills up mid-round (a real tmpfs of fixed size as the outputs folder, filled by another
/// writer while the run is busy): gascli exits non-zero with one message naming the run directory,
/// "no space left on device" and the fix; committed outcomes stay; after the filesystem is enlarged
/// the same command resumes and completes identical to an uninterrupted run.
///
/// Needs `mount` (root). In CI (CI=true) a refused mount fails the test; elsewhere it is skipped.
@Suite(.serialized) struct FullDiskTests {
    static let mountRefusal: String? = {
        guard let dir = try? TestSupport.temporaryDirectory("mount-probe") else { return "no temporary directory" }
        let r = try? TestSupport.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir])
        guard let r, r.status == 0 else { return "mount -t tmpfs is not permitted here: \(r?.stderr ?? "no /bin/mount")" }
        _ = try? TestSupport.run("/bin/umount", [dir])
        return nil
    }()
    static let enabled = mountRefusal == nil || ProcessInfo.processInfo.environment["CI"] == "true"

    @Test(.enabled(if: enabled, "needs root to mount a tmpfs (skipped outside CI when mount is refused)"), .timeLimit(.minutes(5)))
    func aFullDiskMidRoundIsReportedAndTheRunResumesAfterMoreSpace() async throws {
        try await offPool { try Self().fullDiskBody() }
    }

    func fullDiskBody() throws {
        if let refusal = Self.mountRefusal {
            Issue.record("CI=true but \(refusal)")
            return
        }
        let f = try RoundFixture("fulldisk")
        try f.copyPhotos(8)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        try f.writeSlowDetector(seconds: 0.5)  // 8 batches: seconds to spare after the fourth outcome, even on a loaded machine
        try f.write("spec.yaml", f.spec(real: "samples: 8", synthetic: 8, detectors: """
          - {name: base, adapter: builtin, model: image-baseline, batch_size: 4}
          - {name: slow, adapter: process, command: [python3, slow.py], batch_size: 2, timeout: 30s}
        """))
        let reference = try Gascli.runQuiet("spec.yaml", output: f.path("reference"), cwd: f.root)
        #expect(reference.result.status == 0, "\(reference.result.stderr)")

        let disk = f.path("disk")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let mounted = try TestSupport.run("/bin/mount", ["-t", "tmpfs", "-o", "size=32m", "tmpfs", disk])
        try #require(mounted.status == 0, "\(mounted.stderr)")
        defer { _ = try? TestSupport.run("/bin/umount", ["-l", disk]) }
        let outputs = disk + "/runs"

        let p = Process()
        p.executableURL = URL(fileURLWithPath: Gascli.binary)
        p.arguments = ["run", "spec.yaml", "--output", outputs, "--quiet"]
        p.currentDirectoryURL = URL(fileURLWithPath: f.root)
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }

        // Once the slow detector has committed two batches, another writer fills the filesystem.
        let count = """
        import sqlite3, sys
        db = sqlite3.connect("file:" + sys.argv[1] + "/run.sqlite?mode=ro", uri=True)
        print(db.execute("SELECT COUNT(*) FROM outcomes WHERE detector = 'slow'").fetchone()[0])
        """
        let deadline = Date().addingTimeInterval(120)
        var slowOutcomes = 0
        while slowOutcomes < 4 && Date() < deadline && p.isRunning {
            if let dir = ResumeTests.runDirectories(outputs).first {
                slowOutcomes = Int(try TestSupport.python(count, [outputs + "/" + dir]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            }
            usleep(50_000)
        }
        if !p.isRunning {
            p.waitUntilExit()
            let early = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            Issue.record("gascli ended (exit \(p.terminationStatus)) before the disk filled, with \(slowOutcomes) slow outcomes: \(early)")
            return
        }
        try #require(slowOutcomes >= 4, "the run must still be busy when the disk fills (slow outcomes: \(slowOutcomes))")
        let ballast = disk + "/ballast"
        let fd = open(ballast, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(fd >= 0)
        let chunk = [UInt8](repeating: 0xAB, count: 64 * 1024)
        var size = chunk.count
        while size > 0 {
            if chunk.withUnsafeBytes({ write(fd, $0.baseAddress, size) }) < 0 { size /= 2 }  // ENOSPC: smaller pieces, down to a byte
        }
        close(fd)

        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 1, "\(stderr)")
        let dirs = ResumeTests.runDirectories(outputs)
        let run = try #require(dirs.first)
        #expect(stderr.contains("no space left on device while writing the run in \(outputs)/\(run)"), "\(stderr)")
        #expect(stderr.contains("Free space on that filesystem") && stderr.contains("run the same command again"), "\(stderr)")
        let kept = Int(try TestSupport.python(count, [outputs + "/" + run]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        #expect(kept >= 4 && kept < 16, "committed outcomes of the slow detector kept: \(kept)")
        print("full disk: gascli exited \(p.terminationStatus) with: \(stderr.trimmingCharacters(in: .whitespacesAndNewlines)); \(kept) of 16 slow outcomes kept")

        // More space: the same command resumes the run and ends identical to the uninterrupted one.
        let bigger = try TestSupport.run("/bin/mount", ["-o", "remount,size=256m", disk])
        try #require(bigger.status == 0, "\(bigger.stderr)")
        let resumed = try Gascli.run(["run", "spec.yaml", "--output", outputs], cwd: f.root)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming run \(run)"), "\(resumed.stderr)")
        #expect(ResumeTests.runDirectories(outputs) == [run])
        let a = try TestSupport.python(ResumeTests.digest, [reference.dir])
        let b = try TestSupport.python(ResumeTests.digest, [outputs + "/" + run])
        #expect(a.status == 0 && b.status == 0, "\(a.stderr) \(b.stderr)")
        #expect(a.stdout == b.stdout, "the resumed run differs from the uninterrupted one")
        #expect(b.stdout.contains("\"status\": \"completed\""))
    }
}
