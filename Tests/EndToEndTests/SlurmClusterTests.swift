import Foundation
import Testing
import GASTestSupport

/// `gascli cluster slurm --submit` on a real one-node Slurm cluster (slurmctld, slurmd and munged
/// on loopback, started by hosts/slurm/local-cluster.sh): a 4-shard round merges into the results
/// of an unsharded run, and a failed task is named by the merge job. Slow (~30-60 s).
/// Needs root and Debian's slurm-wlm + munge; in CI (CI=true) it fails when they are missing.
@Suite(.serialized) struct SlurmClusterTests {
    static let script = TestSupport.repositoryRoot + "/hosts/slurm/local-cluster.sh"

    /// The cluster's folder, or nil (with the reason printed) when Slurm cannot exist here outside CI.
    static func startCluster() throws -> String? {
        let inCI = ProcessInfo.processInfo.environment["CI"] == "true"
        var missing: [String] = []
        if getuid() != 0 { missing.append("root") }
        for tool in ["munged", "slurmctld", "slurmd", "sbatch", "squeue"] {
            let found = ["/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"].contains { FileManager.default.isExecutableFile(atPath: $0 + tool) }
            if !found { missing.append(tool) }
        }
        if !missing.isEmpty {
            let reason = "the Slurm test needs \(missing.joined(separator: ", ")) (./install.sh --with-test-tools installs slurm-wlm and munge)"
            if inCI { throw TestSupportError(reason) }
            print("skipping SlurmClusterTests: \(reason)")
            return nil
        }
        let dir = try TestSupport.temporaryDirectory("slurm")
        // Output to a file, not a pipe: the daemons outlive the script, and a pipe they inherited
        // would never reach end of file.
        let log = dir + ".start.log"
        guard shell("'\(script)' start '\(dir)' >'\(log)' 2>&1 </dev/null") == 0 else {
            _ = shell("'\(script)' stop '\(dir)' >/dev/null 2>&1 </dev/null")
            throw TestSupportError("the local Slurm cluster did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        return dir
    }

    /// Runs a shell line with system(3): the start script leaves daemons behind, and Foundation's
    /// Process was seen never to reap the script then (the test hung on a defunct bash).
    static func shell(_ line: String) -> Int32 {
        let status = system(line)
        return status == -1 ? -1 : (status >> 8) & 0xff
    }

    static func slurm(_ dir: String) -> [String: String] { ["SLURM_CONF": dir + "/slurm.conf"] }

    /// Waits until none of the jobs is pending or running (bounded).
    static func wait(_ jobs: [String], cluster: String, seconds: Double = 100) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let r = try TestSupport.run("/usr/bin/env", ["squeue", "-h", "-j", jobs.joined(separator: ","), "-o", "%i %T"], environment: slurm(cluster))
            if r.status == 0 && r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return }
            Thread.sleep(forTimeInterval: 0.5)
        }
        throw TestSupportError("Slurm jobs \(jobs) did not finish in \(Int(seconds)) s")
    }

    static func submit(_ f: RoundFixture, runID: String, shards: Int, cluster: String) throws -> (array: String, merge: String) {
        let r = try TestSupport.run(Gascli.binary, ["cluster", "slurm", "spec.yaml", "--shards", "\(shards)", "--submit", "--output", f.path("sharded"),
                                                    "--run-id", runID], cwd: f.root, environment: slurm(cluster))
        #expect(r.status == 0, "\(r.stderr)")
        func id(_ prefix: String) throws -> String {
            let line = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix(prefix) }, "\(r.stdout)")
            return String(line.dropFirst(prefix.count).prefix { $0.isNumber })
        }
        return (try id("array job: "), try id("merge job: "))
    }

    @Test(.timeLimit(.minutes(4))) func fourShardsOnSlurmMergeIntoTheUnshardedResultsAndAFailedTaskIsNamed() async throws {
        try await offPool { try Self().body() }
    }

    func body() throws {
        guard let cluster = try Self.startCluster() else { return }
        defer { _ = Self.shell("'\(Self.script)' stop '\(cluster)' >/dev/null 2>&1 </dev/null") }
        let f = try ShardingTests.round("slurm")
        let id = "t-slurm"
        let r = try Gascli.run(["run", "spec.yaml", "--output", f.path("single"), "--run-id", id, "--quiet"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")

        let good = try Self.submit(f, runID: id, shards: 4, cluster: cluster)
        // A second round, of 2 shards, whose task 1 cannot write its part (a file stands where its folder goes).
        let broken = "t-slurm-broken"
        try FileManager.default.createDirectory(atPath: f.path("sharded/\(broken)/shards"), withIntermediateDirectories: true)
        try "not a folder".write(toFile: f.path("sharded/\(broken)/shards/1-of-2"), atomically: true, encoding: .utf8)
        let bad = try Self.submit(f, runID: broken, shards: 2, cluster: cluster)
        try Self.wait([good.array, good.merge, bad.array, bad.merge], cluster: cluster)

        let run = f.path("sharded/" + id)
        let mergeLog = (try? String(contentsOfFile: run + "/slurm/merge.out", encoding: .utf8)) ?? "(no merge.out)"
        #expect(FileManager.default.fileExists(atPath: run + "/results.json"), "\(mergeLog)")
        #expect(mergeLog.contains("Leaderboard"), "\(mergeLog)")
        for i in 0..<4 { #expect(FileManager.default.fileExists(atPath: run + "/shards/\(i)-of-4/predictions.parquet")) }
        try ShardingTests.expectSame(unsharded: f.path("single/" + id), merged: run)

        let brokenRun = f.path("sharded/" + broken)
        let brokenLog = (try? String(contentsOfFile: brokenRun + "/slurm/merge.out", encoding: .utf8)) ?? "(no merge.out)"
        #expect(brokenLog.contains("missing shard 1/2"), "\(brokenLog)")
        #expect(brokenLog.contains("--shard 1/2 --run-id \(broken)"), "\(brokenLog)")
        #expect(brokenLog.contains("shard-I.out"), "\(brokenLog)")
        let taskLog = (try? String(contentsOfFile: brokenRun + "/slurm/shard-1.out", encoding: .utf8)) ?? ""
        #expect(taskLog.contains("1-of-2 is a file, not a folder"), "the failed task's own log says why: \(taskLog)")
        #expect(!FileManager.default.fileExists(atPath: brokenRun + "/results.json"))
    }
}
