import Foundation
import Testing
import GASTestSupport
@testable import GASRunner
import GASStore
import GASCore
import GASSpec
import GRDB

/// A resumed run takes its plan back from its ledger when nothing it was made from changed, and
/// that plan is the one planning from the data gives; any change to the inputs plans from the
/// data again (so a changed dataset is still caught and the resume refused).
@Suite(.serialized) struct PlanReuseTests {
    /// Runs the round in-process until its first batch is committed, then stops it (status interrupted).
    func interruptedRun(_ f: RoundFixture, outputs: String) async throws -> String {
        do {
            _ = try await RoundRunner.run(specPath: f.path("spec.yaml"), options: RunOptions(outputDirectory: outputs, shouldStop: { true }))
            Issue.record("the run finished instead of stopping")
        } catch RunnerError.stopped {}
        return try #require(ResumeTests.runDirectories(outputs).first)
    }

    /// A run whose sample recording was cut short (killed while the detectors ran beside it): the
    /// plan inputs are not written yet, so the rerun plans from the data, records the samples that
    /// are missing, and ends with the same ledger as an uninterrupted run.
    @Test func aRunWhoseSamplesWereCutShortCompletesThemOnResume() async throws {
        let f = try ShardingTests.round("samples-cut")
        let reference = f.path("reference")
        _ = try await RoundRunner.run(specPath: f.path("spec.yaml"), options: RunOptions(outputDirectory: reference))
        let outputs = f.path("runs")
        let id = try await interruptedRun(f, outputs: outputs)
        let runDirectory = outputs + "/" + id
        try FileManager.default.removeItem(atPath: runDirectory + "/" + PlanInputs.fileName)
        let cut = "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute('DELETE FROM samples WHERE sample_id IN (SELECT sample_id FROM samples ORDER BY sample_id DESC LIMIT 5)'); db.commit()"
        #expect(try TestSupport.python(cut, [runDirectory + "/run.sqlite"]).status == 0)
        let before = try RunLedger(path: runDirectory + "/run.sqlite", create: false, readOnly: true)
        let total = try before.count("samples", runID: id) + 5

        let summary = try await RoundRunner.run(specPath: f.path("spec.yaml"), options: RunOptions(outputDirectory: outputs))
        #expect(summary.runID == id)
        let after = try RunLedger(path: runDirectory + "/run.sqlite", create: false, readOnly: true)
        #expect(try after.count("samples", runID: id) == total)
        #expect(PlanInputs.read(directory: runDirectory) != nil, "noted once every sample is recorded")
        let referenceRun = try #require(ResumeTests.runDirectories(reference).first)
        let a = try TestSupport.python(ResumeTests.digest, [reference + "/" + referenceRun])
        let b = try TestSupport.python(ResumeTests.digest, [runDirectory])
        #expect(a.status == 0 && b.status == 0 && a.stdout == b.stdout, "\(a.stderr) \(b.stderr)")
    }

    /// `gascli run` killed (SIGKILL) once its plan inputs are recorded and a batch or two is in.
    /// The fingerprint names the binary, so runs meant to reuse a plan are all made by gascli.
    func killedCLIRun(_ f: RoundFixture, outputs: String) throws -> String {
        let p = try ResumeTests().start(f, outputs: outputs)
        try ShardedPostgresTests.waitFor("the recorded plan inputs") {
            ResumeTests.runDirectories(outputs).first.map { PlanInputs.read(directory: outputs + "/" + $0) != nil } ?? false
        }
        usleep(300_000)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        return try #require(ResumeTests.runDirectories(outputs).first)
    }

    func setTimes(_ path: String, to date: Date) throws {
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path)
    }

    @Test func theRecordedPlanTakenBackEqualsPlanningFromTheData() async throws {
        let f = try ShardingTests.round("reuse-equal")
        let outputs = f.path("runs")
        let id = try await interruptedRun(f, outputs: outputs)
        let runDirectory = outputs + "/" + id
        let inputs = try #require(PlanInputs.read(directory: runDirectory), "the run records what its plan was made from")

        let loaded = try SpecLoader.load(path: f.path("spec.yaml"))
        // The runner starts reading predictions tables when the datasets have been read: once per
        // plan made from the data, never for a plan taken back (it starts them beside that itself).
        var samplesRead = 0
        let fresh = try RoundPlanner.plan(loaded, outputsOverride: outputs, draftManifest: true, samplesRead: {
            samplesRead += 1
            #expect(FileManager.default.fileExists(atPath: ManifestDraft.path(in: outputs)) == false, "before the manifest is hashed")
        })
        #expect(samplesRead == 1)
        if let draft = fresh.manifestDraft { try FileManager.default.removeItem(atPath: draft) }
        let reused = try RoundPlanner.plan(loaded, outputsOverride: outputs, reuse: runDirectory, samplesRead: { samplesRead += 1 })
        #expect(samplesRead == 1)
        #expect(fresh.reusedFrom == nil && reused.reusedFrom == runDirectory)
        #expect(fresh.inputsFingerprint == inputs.fingerprint && reused.manifestHash == inputs.manifestHash)
        #expect(try reused.plan.canonicalJSON() == fresh.plan.canonicalJSON(), "byte for byte the plan made from the data")
        #expect(try reused.plan.manifestHash() == fresh.manifestHash)
        #expect(reused.warnings == fresh.warnings)
        #expect(inputs.sampleCount == fresh.plan.samples.count, "the samples are read back into their places")
        #expect(inputs.samplesSHA256 != nil, "plan-inputs.json names the samples' quick copy")
        #expect(reused.plan.samples == fresh.plan.samples)
        #expect(reused.executionOrder == ExecutionOrder.positions(of: fresh.plan.samples), "the execution order comes back with them")

        // A dataset file touched (same bytes): planned from the data again, to the same plan.
        let photo = f.path("photos/" + (try FileManager.default.contentsOfDirectory(atPath: f.path("photos")).sorted()[0]))
        try setTimes(photo, to: Date().addingTimeInterval(60))
        let touched = try RoundPlanner.plan(loaded, outputsOverride: outputs, reuse: runDirectory)
        #expect(touched.reusedFrom == nil && touched.manifestHash == fresh.manifestHash && touched.inputsFingerprint != inputs.fingerprint)
    }

    /// plan-samples.bin is what a reused plan is read from; one that is damaged is passed over for
    /// the ledger's rows, and with neither intact the round is planned from the data.
    @Test func theSamplesCopyIsReadAndADamagedOneIsPassedOver() async throws {
        let f = try ShardingTests.round("reuse-copy")
        let outputs = f.path("runs")
        let id = try await interruptedRun(f, outputs: outputs)
        let runDirectory = outputs + "/" + id
        let loaded = try SpecLoader.load(path: f.path("spec.yaml"))
        let fresh = try RoundPlanner.plan(loaded, outputsOverride: outputs)
        let copy = runDirectory + "/" + PlanSamplesFile.fileName
        let intact = try Data(contentsOf: URL(fileURLWithPath: copy))
        var damaged = intact
        damaged[damaged.count / 2] ^= 0x01
        func reused() throws -> RoundPlanner.Planned { try RoundPlanner.plan(loaded, outputsOverride: outputs, reuse: runDirectory) }

        try damaged.write(to: URL(fileURLWithPath: copy))
        let fromLedger = try reused()
        #expect(fromLedger.reusedFrom == runDirectory && fromLedger.plan.samples == fresh.plan.samples, "a damaged copy: the ledger's rows")
        #expect(fromLedger.executionOrder == ExecutionOrder.positions(of: fresh.plan.samples))

        // The ledger without its sample rows: only the copy can give the plan back.
        try intact.write(to: URL(fileURLWithPath: copy))
        let ledger = try DatabaseQueue(path: runDirectory + "/run.sqlite")
        try await ledger.write { try $0.execute(sql: "DELETE FROM samples") }
        try ledger.close()
        let fromCopy = try reused()
        #expect(fromCopy.reusedFrom == runDirectory && fromCopy.plan.samples == fresh.plan.samples, "an intact copy is read")
        #expect(try fromCopy.plan.canonicalJSON() == fresh.plan.canonicalJSON())
        #expect(fromCopy.executionOrder == ExecutionOrder.positions(of: fresh.plan.samples))

        try damaged.write(to: URL(fileURLWithPath: copy))
        #expect(try reused().reusedFrom == nil, "neither intact: planned from the data")
        try FileManager.default.removeItem(atPath: copy)
        #expect(try reused().reusedFrom == nil, "neither there: planned from the data")
    }

    @Test func gascliResumesOnTheRecordedPlanAndTheResultsEqualAnUninterruptedRun() async throws {
        try await offPool { try Self().resumeBody() }
    }

    func resumeBody() throws {
        let f = try ShardingTests.round("reuse-cli", slowSeconds: 0.15)
        let reference = try Gascli.runQuiet("spec.yaml", output: f.path("reference"), cwd: f.root)
        #expect(reference.result.status == 0, "\(reference.result.stderr)")
        let outputs = f.path("runs")
        let id = try killedCLIRun(f, outputs: outputs)
        let runDirectory = outputs + "/" + id
        let recorded = try #require(PlanInputs.read(directory: runDirectory))

        let r = try Gascli.run(["run", "spec.yaml", "--output", outputs], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("plan of \(id) reused") && r.stderr.contains("resuming run \(id)"), "\(r.stderr)")
        let a = try TestSupport.python(ResumeTests.digest, [reference.dir])
        let b = try TestSupport.python(ResumeTests.digest, [runDirectory])
        #expect(a.status == 0 && b.status == 0, "\(a.stderr) \(b.stderr)")
        #expect(a.stdout == b.stdout, "the run resumed on its recorded plan differs from the uninterrupted one")

        // Touched (same bytes): planned from the data, the new fingerprint recorded and reused
        // by the next run; --replan never reuses.
        let photo = f.path("photos/" + (try FileManager.default.contentsOfDirectory(atPath: f.path("photos")).sorted()[0]))
        try setTimes(photo, to: Date().addingTimeInterval(60))
        var again = try Gascli.run(["run", "spec.yaml", "--output", outputs, "--run-id", id], cwd: f.root)
        #expect(again.status == 0 && !again.stderr.contains("reused"), "\(again.stderr)")
        let rerecorded = try #require(PlanInputs.read(directory: runDirectory))
        #expect(rerecorded.fingerprint != recorded.fingerprint && rerecorded.manifestHash == recorded.manifestHash)
        again = try Gascli.run(["run", "spec.yaml", "--output", outputs, "--run-id", id], cwd: f.root)
        #expect(again.status == 0 && again.stderr.contains("plan of \(id) reused"), "\(again.stderr)")
        again = try Gascli.run(["run", "spec.yaml", "--output", outputs, "--run-id", id, "--replan"], cwd: f.root)
        #expect(again.status == 0 && !again.stderr.contains("reused"), "\(again.stderr)")
    }

    /// Media deleted from the store after planning: planned from the data, which stores it again.
    @Test func aMissingStoredBlobPlansFromTheDataAndRestoresIt() async throws {
        let f = try ShardingTests.round("reuse-media")
        let outputs = f.path("runs")
        let id = try await interruptedRun(f, outputs: outputs)
        let loaded = try SpecLoader.load(path: f.path("spec.yaml"))
        let reused = try RoundPlanner.plan(loaded, outputsOverride: outputs, reuse: outputs + "/" + id)
        #expect(reused.reusedFrom != nil)
        let blob = try #require(reused.plan.samples.first { $0.skipReason == nil }).mediaPath
        // Another run's blob added beside: the folders changed, every blob is checked, all there.
        try Data("other".utf8).write(to: URL(fileURLWithPath: outputs + "/" + (blob as NSString).deletingLastPathComponent + "/other.png"))
        #expect(try RoundPlanner.plan(loaded, outputsOverride: outputs, reuse: outputs + "/" + id).reusedFrom != nil)
        try FileManager.default.removeItem(atPath: outputs + "/" + blob)
        let replanned = try RoundPlanner.plan(loaded, outputsOverride: outputs, reuse: outputs + "/" + id)
        #expect(replanned.reusedFrom == nil && replanned.manifestHash == reused.manifestHash)
        #expect(FileManager.default.fileExists(atPath: outputs + "/" + blob), "planning stored it again")
    }

    @Test func changedBytesUnderTheSameSizeAndModificationTimeAreStillCaught() async throws {
        try await offPool { try Self().changedBytesBody() }
    }

    /// A round with a slow detector whose gascli run was killed mid-way, ready to be run again.
    func killedRound(_ label: String) throws -> (f: RoundFixture, outputs: String, id: String) {
        let f = try ShardingTests.round(label, slowSeconds: 0.15)
        let outputs = f.path("runs")
        return (f, outputs, try killedCLIRun(f, outputs: outputs))
    }

    func changedBytesBody() throws {
        let (f, outputs, id) = try killedRound("reuse-ctime")
        // Same size, modification time set back: only the change time (and the bytes) tell.
        let photo = f.path("photos/" + (try FileManager.default.contentsOfDirectory(atPath: f.path("photos")).sorted()[0]))
        var before = stat()
        #expect(stat(photo, &before) == 0)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: photo))
        bytes[bytes.count - 1] ^= 0xFF
        usleep(20_000)  // a change time after the recorded one
        let handle = try #require(FileHandle(forWritingAtPath: photo), "rewritten in place: same inode")
        try handle.write(contentsOf: bytes)
        try handle.close()
        // Access and modification times back to the nanosecond, as `touch -r` would.
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, photo, &times, 0) == 0)
        var after = stat()
        #expect(stat(photo, &after) == 0 && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec && after.st_mtim.tv_sec == before.st_mtim.tv_sec
                && after.st_size == before.st_size && after.st_ino == before.st_ino)

        let r = try Gascli.run(["run", "spec.yaml", "--output", outputs], cwd: f.root)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(!r.stderr.contains("reused") && r.stderr.contains("unfinished run \(id)") && r.stderr.contains("the data changed"), "\(r.stderr)")
    }

    @Test func aChangedDetectorArtifactIsNotReused() async throws {
        try await offPool { try Self().changedDetectorBody() }
    }

    func changedDetectorBody() throws {
        let (f, outputs, id) = try killedRound("reuse-detector")
        let script = try String(contentsOfFile: f.path("slow.py"), encoding: .utf8)
        try f.write("slow.py", script + "\n# changed\n")
        let r = try Gascli.run(["run", "spec.yaml", "--output", outputs], cwd: f.root)
        #expect(r.status == 1 && !r.stderr.contains("reused") && r.stderr.contains("unfinished run \(id)")
                && r.stderr.contains("detector 'slow' changed"), "\(r.stderr)")
    }
}
