import ArgumentParser
import Foundation
import GASRunner
import GASSpec

struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Write (and submit) the jobs that run a round as shards on Slurm or Kubernetes.",
        discussion: """
            Example:
              gascli cluster slurm configs/quickstart.yaml --shards 8 --submit
              gascli cluster k8s configs/quickstart.yaml --shards 8 --image registry.example/gascli:0.1.0 -o k8s/

            Every task runs `gascli run SPEC --shard I/N --run-id ID` into one run directory on
            storage all nodes share; the merge job combines the parts (see docs/scaling.md).
            """,
        subcommands: [ClusterSlurmCommand.self, ClusterK8sCommand.self])
}

struct ClusterSlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Write a Slurm job array (one task per shard) and a merge job; --submit submits both.",
        discussion: """
            Example:
              gascli cluster slurm configs/quickstart.yaml --shards 4
              gascli cluster slurm configs/quickstart.yaml --shards 32 --partition cpu --time 02:00:00 --submit
              gascli cluster slurm configs/quickstart.yaml --shards 4 --output /shared/runs -o jobs/

            Writes shards.sbatch (#SBATCH --array=0-(N-1), task I runs --shard I/N) and merge.sbatch
            into -o DIR (default <run dir>/slurm; the task logs always go there). With --submit the array
            is submitted with sbatch --parsable, then the merge with --dependency=afterany:<array job>,
            so it runs even when a task failed and names that shard; both job ids are printed.
            Paths are made absolute: the outputs folder must be on storage every node mounts.
            A failed task is rerun with: sbatch --array=I <dir>/shards.sbatch (it resumes its part).
            """)

    @Argument(help: "Path of the round spec (YAML).")
    var spec: String

    @Option(help: "Number of shards (array tasks).")
    var shards: Int

    @Flag(help: "Submit the array and the merge job with sbatch and print their job ids.")
    var submit = false

    @Option(help: "Slurm partition for every job.")
    var partition: String?

    @Option(name: .customLong("cpus-per-task"), help: "CPUs per shard task.")
    var cpusPerTask: Int?

    @Option(help: "Time limit per job (Slurm syntax, e.g. 01:30:00).")
    var time: String?

    @Option(name: [.customShort("o"), .customLong("scripts")], help: "Folder for the two scripts (default <run dir>/slurm).")
    var scripts: String?

    @Option(name: .customLong("output"), help: "Parent folder of the run directory, on shared storage (overrides outputs.directory).")
    var outputs: String?

    @Option(name: .customLong("run-id"), help: "Run id (default <round>-<UTC time>-sharded).")
    var runID: String?

    @Option(help: "The gascli executable the nodes run (default: this one).")
    var gascli: String?

    func run() throws {
        guard shards >= 1 else {
            Diagnostics.printError("--shards \(shards): the number of shards must be at least 1")
            throw ExitCode(2)
        }
        do {
            let executable = gascli ?? Self.currentExecutable()
            let round = try ClusterRound.forSpec(spec, shards: shards, runID: runID, outputs: outputs, gascli: executable)
            let options = SlurmJobs.Options(partition: partition, cpusPerTask: cpusPerTask, time: time)
            let folder = scripts.map { (PathResolution.resolve($0, against: FileManager.default.currentDirectoryPath)) } ?? SlurmJobs.logDirectory(round)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: SlurmJobs.logDirectory(round), withIntermediateDirectories: true)
            let arrayPath = (folder as NSString).appendingPathComponent("shards.sbatch")
            let mergePath = (folder as NSString).appendingPathComponent("merge.sbatch")
            try SlurmJobs.arrayScript(round, options: options).write(toFile: arrayPath, atomically: true, encoding: .utf8)
            try SlurmJobs.mergeScript(round, options: options).write(toFile: mergePath, atomically: true, encoding: .utf8)
            print("run:    \(round.runDirectory)")
            print("shards: \(arrayPath)")
            print("merge:  \(mergePath)")
            guard submit else {
                print("submit: gascli cluster slurm ... --submit, or:")
                print("  jid=$(sbatch --parsable \(arrayPath)) && sbatch --parsable --dependency=afterany:$jid \(mergePath)")
                return
            }
            let arrayJob = try Self.sbatch([arrayPath])
            let mergeJob = try Self.sbatch(["--dependency=afterany:\(arrayJob)", mergePath])
            print("array job: \(arrayJob) (\(shards) tasks)")
            print("merge job: \(mergeJob) (after every task; log \(SlurmJobs.logDirectory(round))/merge.out)")
        } catch {
            throw Diagnostics.exitCode(for: error)
        }
    }

    static func currentExecutable() -> String {
        Bundle.main.executablePath ?? CommandLine.arguments[0]
    }

    /// Runs `sbatch --parsable ARGS` and returns the job id it printed.
    static func sbatch(_ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sbatch", "--parsable"] + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch {
            throw ValidationError("cannot start sbatch: \(error); is Slurm installed on this host?")
        }
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0, let id = SlurmJobs.parseJobID(stdout) else {
            throw ValidationError("sbatch \(arguments.joined(separator: " ")) failed (exit \(p.terminationStatus)): \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))\(stdout)")
        }
        return id
    }
}

struct ClusterK8sCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "k8s",
        abstract: "Write a Kubernetes Indexed Job (one index per shard), the merge Job and the shared volume claim.",
        discussion: """
            Example:
              gascli cluster k8s configs/quickstart.yaml --shards 8 --image registry.example/gascli:0.1.0 -o k8s/
              kubectl apply -f k8s/runs-pvc.yaml -f k8s/shards-job.yaml
              kubectl wait --for=condition=complete job/<name>-shards --timeout=6h
              kubectl apply -f k8s/merge-job.yaml

            shards-job.yaml: completionMode Indexed, completions N; pod I runs
            gascli run SPEC --shard $(JOB_COMPLETION_INDEX)/N --run-id ID --output MOUNT.
            merge-job.yaml: gascli merge MOUNT/ID, to apply once the shards completed.
            runs-pvc.yaml: a ReadWriteMany claim mounted at MOUNT by every pod (skip it when --pvc
            names a claim that exists). SPEC is the path inside the image (relative to --workdir).
            """)

    @Argument(help: "Path of the round spec, as the container sees it.")
    var spec: String

    @Option(help: "Number of shards (completions of the Indexed Job).")
    var shards: Int

    @Option(help: "Container image with gascli, the spec and its data.")
    var image = "gascli:latest"

    @Option(help: "PersistentVolumeClaim holding the runs folder (ReadWriteMany).")
    var pvc = "gascli-runs"

    @Option(help: "Size requested by the claim in runs-pvc.yaml.")
    var storage = "50Gi"

    @Option(name: .customLong("storage-class"), help: "StorageClass of the claim (one that offers ReadWriteMany).")
    var storageClass: String?

    @Option(help: "Where the claim is mounted in every pod: the outputs folder.")
    var mount = "/runs"

    @Option(help: "Working directory in the container (where SPEC's relative paths resolve).")
    var workdir: String?

    @Option(help: "Pods running at once (default: all N).")
    var parallelism: Int?

    @Option(help: "Namespace for every object.")
    var namespace: String?

    @Option(name: .customLong("run-id"), help: "Run id (default <round>-<UTC time>-sharded).")
    var runID: String?

    @Option(help: "The gascli command inside the image.")
    var gascli = "gascli"

    @Option(name: .shortAndLong, help: "Folder for the YAML files.")
    var output = "k8s"

    func run() throws {
        guard shards >= 1 else {
            Diagnostics.printError("--shards \(shards): the number of shards must be at least 1")
            throw ExitCode(2)
        }
        do {
            let id = try runID ?? ClusterRound.newRunID(round: SpecLoader.load(path: spec).spec.round.name)
            let round = try ClusterRound(spec: spec, shards: shards, runID: id, outputs: mount, gascli: gascli, workingDirectory: workdir)
            let options = KubernetesJobs.Options(image: image, claim: pvc, storage: storage, storageClass: storageClass,
                                                 parallelism: parallelism, namespace: namespace)
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            func write(_ name: String, _ text: String) throws -> String {
                let path = (output as NSString).appendingPathComponent(name)
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                return path
            }
            let claim = try write("runs-pvc.yaml", KubernetesJobs.claim(round, options: options))
            let shardsJob = try write("shards-job.yaml", KubernetesJobs.shardsJob(round, options: options))
            let mergeJob = try write("merge-job.yaml", KubernetesJobs.mergeJob(round, options: options))
            let ns = namespace.map { " -n \($0)" } ?? ""
            print("""
                run: \(round.runDirectory) (on claim \(pvc))
                wrote \(claim), \(shardsJob), \(mergeJob)
                apply:
                  kubectl apply\(ns) -f \(claim) -f \(shardsJob)
                  kubectl wait\(ns) --for=condition=complete job/\(KubernetesJobs.shardsJobName(round)) --timeout=24h
                  kubectl apply\(ns) -f \(mergeJob)
                  kubectl logs\(ns) -f job/\(KubernetesJobs.mergeJobName(round))
                """)
        } catch {
            throw Diagnostics.exitCode(for: error)
        }
    }
}
