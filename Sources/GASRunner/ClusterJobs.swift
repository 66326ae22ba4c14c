import Foundation
import GASSpec

/// What every cluster rendering needs: which spec, how many shards, and where the shared run
/// directory lives. Paths are used as given (absolute ones on the shared file system).
public struct ClusterRound: Sendable {
    public var spec: String
    public var shards: Int
    public var runID: String
    /// The outputs folder on shared storage; the run directory is `<outputs>/<runID>`.
    public var outputs: String
    public var gascli: String
    /// Folder the tasks `cd` into (where relative paths of the spec resolve as on the submit host).
    public var workingDirectory: String?

    public init(spec: String, shards: Int, runID: String, outputs: String, gascli: String = "gascli", workingDirectory: String? = nil) throws {
        guard shards >= 1 else { throw ShardError.invalidShard(text: "--shards \(shards)", reason: "N must be at least 1") }
        self.spec = spec
        self.shards = shards
        self.runID = runID
        self.outputs = outputs
        self.gascli = gascli
        self.workingDirectory = workingDirectory
    }

    public var runDirectory: String { (outputs as NSString).appendingPathComponent(runID) }

    /// A run id for a new sharded round: fixed when the jobs are written, so every task agrees.
    public static func newRunID(round: String, date: Date = Date()) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss"
        return "\(round)-\(f.string(from: date))-sharded"
    }
}

/// Slurm: a job array whose task I runs `--shard I/N`, and a merge job that runs after every task
/// has ended, successful or not (`afterany`), so a failed task is reported by name by the merge
/// instead of leaving the merge pending forever.
public enum SlurmJobs {
    public struct Options: Sendable {
        public var partition: String?
        public var cpusPerTask: Int?
        public var time: String?
        public init(partition: String? = nil, cpusPerTask: Int? = nil, time: String? = nil) {
            self.partition = partition
            self.cpusPerTask = cpusPerTask
            self.time = time
        }
    }

    /// Task logs: `<run dir>/slurm/shard-I.out` and `merge.out` (Slurm needs the folder to exist).
    public static func logDirectory(_ round: ClusterRound) -> String {
        (round.runDirectory as NSString).appendingPathComponent("slurm")
    }

    public static func arrayScript(_ round: ClusterRound, options: Options) -> String {
        let logs = logDirectory(round)
        var lines = ["#!/bin/bash",
                     "#SBATCH --job-name=\(jobName(round.runID))",
                     "#SBATCH --array=0-\(round.shards - 1)",
                     "#SBATCH --output=\(logs)/shard-%a.out"]
        lines += header(options)
        lines += ["# Task I evaluates shard I/\(round.shards) of \(round.spec) into \(round.runDirectory)/shards/I-of-\(round.shards)/.",
                  "# Resubmitting a task (sbatch --array=I this-script) resumes its part.",
                  "set -euo pipefail"]
        if let dir = round.workingDirectory { lines.append("cd \(quote(dir))") }
        lines.append("exec \(quote(round.gascli)) run \(quote(round.spec)) --shard \"${SLURM_ARRAY_TASK_ID}/\(round.shards)\" --run-id \(quote(round.runID)) --output \(quote(round.outputs)) --quiet")
        return lines.joined(separator: "\n") + "\n"
    }

    public static func mergeScript(_ round: ClusterRound, options: Options) -> String {
        let logs = logDirectory(round)
        var lines = ["#!/bin/bash",
                     "#SBATCH --job-name=\(jobName(round.runID))-merge",
                     "#SBATCH --output=\(logs)/merge.out"]
        lines += header(options)
        lines += ["# Runs after every shard task ended (--dependency=afterany): merges the parts, or names the",
                  "# shards that are missing or unfinished.",
                  "set -uo pipefail"]
        if let dir = round.workingDirectory { lines.append("cd \(quote(dir))") }
        lines += ["if \(quote(round.gascli)) merge \(quote(round.runDirectory)); then exit 0; fi",
                  "echo \"gascli merge refused $(basename \(quote(round.runDirectory))); the shard tasks' logs are \(logs)/shard-I.out\" >&2",
                  "exit 1"]
        return lines.joined(separator: "\n") + "\n"
    }

    static func header(_ options: Options) -> [String] {
        var lines: [String] = []
        if let p = options.partition { lines.append("#SBATCH --partition=\(p)") }
        if let c = options.cpusPerTask { lines.append("#SBATCH --cpus-per-task=\(c)") }
        if let t = options.time { lines.append("#SBATCH --time=\(t)") }
        return lines
    }

    /// The job id `sbatch --parsable` printed ("123" or "123;cluster").
    public static func parseJobID(_ output: String) -> String? {
        let first = output.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        let id = first.split(separator: ";").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        return !id.isEmpty && id.allSatisfy(\.isNumber) ? id : nil
    }

    static func jobName(_ runID: String) -> String {
        "gas-" + String(runID.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
    }

    /// Single-quoted for bash.
    static func quote(_ s: String) -> String {
        if !s.isEmpty, s.allSatisfy({ $0.isLetter || $0.isNumber || "/._-+:=@".contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// Kubernetes: an Indexed Job (completion index I runs `--shard I/N`), a merge Job to apply once
/// it completed, and the ReadWriteMany claim both mount at the outputs folder.
public enum KubernetesJobs {
    public struct Options: Sendable {
        public var image: String
        public var claim: String
        public var storage: String
        public var storageClass: String?
        public var parallelism: Int?
        public var namespace: String?
        public init(image: String = "gascli:latest", claim: String = "gascli-runs", storage: String = "50Gi", storageClass: String? = nil,
                    parallelism: Int? = nil, namespace: String? = nil) {
            self.image = image
            self.claim = claim
            self.storage = storage
            self.storageClass = storageClass
            self.parallelism = parallelism
            self.namespace = namespace
        }
    }

    /// A DNS-1123 label from the run id: lower case, digits and '-', at most 52 characters so
    /// `-shards` and `-merge` fit in 63.
    public static func baseName(_ runID: String) -> String {
        var name = String(runID.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" })
        name = String(name.prefix(52))
        while name.hasPrefix("-") { name.removeFirst() }
        while name.hasSuffix("-") { name.removeLast() }
        return name.isEmpty ? "gascli" : name
    }

    public static func shardsJobName(_ round: ClusterRound) -> String { baseName(round.runID) + "-shards" }
    public static func mergeJobName(_ round: ClusterRound) -> String { baseName(round.runID) + "-merge" }

    public static func claim(_ round: ClusterRound, options: Options) -> String {
        var lines = ["apiVersion: v1", "kind: PersistentVolumeClaim", "metadata:", "  name: \(yaml(options.claim))"]
        if let ns = options.namespace { lines.append("  namespace: \(yaml(ns))") }
        lines += ["spec:", "  accessModes: [ReadWriteMany]"]
        if let c = options.storageClass { lines.append("  storageClassName: \(yaml(c))") }
        lines += ["  resources:", "    requests:", "      storage: \(yaml(options.storage))"]
        return lines.joined(separator: "\n") + "\n"
    }

    public static func shardsJob(_ round: ClusterRound, options: Options) -> String {
        let n = round.shards
        let args = ["run", round.spec, "--shard", "$(JOB_COMPLETION_INDEX)/\(n)", "--run-id", round.runID, "--output", round.outputs, "--quiet"]
        return job(name: shardsJobName(round), round: round, options: options, component: "shard", extraSpec: [
            "  completionMode: Indexed",
            "  completions: \(n)",
            "  parallelism: \(min(n, max(1, options.parallelism ?? n)))",
            // Each index may be retried; a rerun resumes its part.
            "  backoffLimit: \(2 * n)",
        ], args: args)
    }

    public static func mergeJob(_ round: ClusterRound, options: Options) -> String {
        job(name: mergeJobName(round), round: round, options: options, component: "merge",
            extraSpec: ["  completions: 1", "  parallelism: 1", "  backoffLimit: 0"], args: ["merge", round.runDirectory])
    }

    static func job(name: String, round: ClusterRound, options: Options, component: String, extraSpec: [String], args: [String]) -> String {
        var lines = ["apiVersion: batch/v1", "kind: Job", "metadata:", "  name: \(name)"]
        if let ns = options.namespace { lines.append("  namespace: \(yaml(ns))") }
        let labels = ["    app.kubernetes.io/name: gascli", "    app.kubernetes.io/component: \(component)",
                      "    gascli/run: \(baseName(round.runID))"]
        lines += ["  labels:"] + labels
        lines += ["spec:"] + extraSpec
        lines += ["  template:", "    metadata:", "      labels:"] + labels.map { "    " + $0 }
        lines += ["    spec:", "      restartPolicy: Never", "      containers:", "        - name: gascli",
                  "          image: \(yaml(options.image))", "          command: [\(yaml(round.gascli))]",
                  "          args: [" + args.map(yaml).joined(separator: ", ") + "]"]
        if let dir = round.workingDirectory { lines.append("          workingDir: \(yaml(dir))") }
        lines += ["          volumeMounts:", "            - name: runs", "              mountPath: \(yaml(round.outputs))",
                  "      volumes:", "        - name: runs", "          persistentVolumeClaim:", "            claimName: \(yaml(options.claim))"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// A double-quoted YAML scalar (JSON string syntax is valid YAML).
    static func yaml(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        let text = String(decoding: data, as: UTF8.self)
        return String(text.dropFirst().dropLast())
    }
}

extension ClusterRound {
    /// A round for `gascli cluster`: the spec's round name gives the run id (unless given) and its
    /// `outputs.directory` the outputs folder (unless given), made absolute against the current folder.
    public static func forSpec(_ specPath: String, shards: Int, runID: String?, outputs: String?, gascli: String,
                               absolutePaths: Bool = true) throws -> ClusterRound {
        let loaded = try SpecLoader.load(path: specPath)
        let cwd = FileManager.default.currentDirectoryPath
        let outputsFolder = absolutePaths ? RoundPlanner.outputsDirectory(loaded, outputsOverride: outputs)
            : (outputs ?? loaded.spec.outputs.directory)
        return try ClusterRound(spec: absolutePaths ? PathResolutionShim.absolute(specPath) : specPath, shards: shards,
                                runID: runID ?? newRunID(round: loaded.spec.round.name), outputs: outputsFolder, gascli: gascli,
                                workingDirectory: absolutePaths ? cwd : nil)
    }
}
