import Foundation
import Testing
import GASTestSupport

/// `gascli cluster k8s` and `gascli cluster slurm` (without submitting): the files they write.
/// No Kubernetes cluster can run here, so every rendered document is loaded into the official
/// `kubernetes` Python client's models (the API schema): unknown fields, wrong types and missing
/// required fields fail.
@Suite struct ClusterManifestTests {
    /// Walks a document against the client's model classes (openapi_types / attribute_map), then
    /// deserializes it, which enforces required fields; prints the facts the test checks.
    static let validate = """
    import json, sys, yaml
    import kubernetes.client.models as models
    from kubernetes.client import ApiClient

    def check_value(value, t, path):
        if t.startswith("list["):
            if not isinstance(value, list): sys.exit(f"{path}: expected a list for {t}")
            for i, v in enumerate(value): check_value(v, t[5:-1], f"{path}[{i}]")
        elif t.startswith("dict("):
            if not isinstance(value, dict): sys.exit(f"{path}: expected a map for {t}")
            inner = t[t.index(",") + 1:-1].strip()
            for k, v in value.items(): check_value(v, inner, f"{path}.{k}")
        elif hasattr(models, t):
            if not isinstance(value, dict): sys.exit(f"{path}: expected an object {t}")
            cls = getattr(models, t)
            names = {v: k for k, v in cls.attribute_map.items()}
            for key, v in value.items():
                if key not in names: sys.exit(f"{path}.{key}: unknown field of {t}")
                check_value(v, cls.openapi_types[names[key]], f"{path}.{key}")
        else:
            expected = {"str": str, "int": int, "bool": bool, "float": (int, float), "object": object, "datetime": str}.get(t, object)
            if not isinstance(value, expected) or (t == "int" and isinstance(value, bool)):
                sys.exit(f"{path}: {value!r} is not {t}")

    client = ApiClient()
    kinds = {"Job": "V1Job", "PersistentVolumeClaim": "V1PersistentVolumeClaim"}
    facts = {}
    for path in sys.argv[1:]:
        docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
        for doc in docs:
            model = kinds[doc["kind"]]
            check_value(doc, model, path)
            obj = client._ApiClient__deserialize(doc, model)
            facts[path.rsplit("/", 1)[-1]] = client.sanitize_for_serialization(obj)
    print(json.dumps(facts, sort_keys=True))
    """

    @Test func k8sManifestsLoadIntoTheKubernetesAPIModels() async throws {
        try await offPool { try Self().k8sBody() }
    }

    func k8sBody() throws {
        try TestSupport.requirePythonModules(["kubernetes", "yaml"])
        let f = try ShardingTests.round("k8s")
        let out = f.path("k8s out")
        let r = try Gascli.run(["cluster", "k8s", "spec.yaml", "--shards", "4", "--image", "registry.example/gascli:0.1.0", "--pvc", "gas-runs",
                                "--run-id", "T_Round 7", "--workdir", "/app", "--mount", "/shared/runs", "--namespace", "gas", "--parallelism", "2",
                                "-o", out], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("kubectl apply -n gas -f"), "\(r.stdout)")
        #expect(r.stdout.contains("kubectl wait -n gas --for=condition=complete job/t-round-7-shards"), "\(r.stdout)")
        let files = ["runs-pvc.yaml", "shards-job.yaml", "merge-job.yaml"].map { out + "/" + $0 }
        let v = try TestSupport.python(Self.validate, files)
        #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
        let facts = try #require(try JSONSerialization.jsonObject(with: Data(v.stdout.utf8)) as? [String: [String: Any]], "\(v.stdout)")

        let shards = try #require(facts["shards-job.yaml"])
        let spec = try #require(shards["spec"] as? [String: Any])
        #expect(spec["completionMode"] as? String == "Indexed")
        #expect(spec["completions"] as? Int == 4)
        #expect(spec["parallelism"] as? Int == 2)
        #expect((shards["metadata"] as? [String: Any])?["name"] as? String == "t-round-7-shards")
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(pod["restartPolicy"] as? String == "Never")
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        #expect(container["args"] as? [String] == ["run", "spec.yaml", "--shard", "$(JOB_COMPLETION_INDEX)/4", "--run-id", "T_Round 7",
                                                   "--output", "/shared/runs", "--quiet"])
        #expect(container["workingDir"] as? String == "/app")
        #expect((container["volumeMounts"] as? [[String: Any]])?.first?["mountPath"] as? String == "/shared/runs")
        let volume = try #require((pod["volumes"] as? [[String: Any]])?.first)
        #expect((volume["persistentVolumeClaim"] as? [String: Any])?["claimName"] as? String == "gas-runs")

        let merge = try #require(facts["merge-job.yaml"])
        let mergePod = try #require(((merge["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect((mergePod["containers"] as? [[String: Any]])?.first?["args"] as? [String] == ["merge", "/shared/runs/T_Round 7"])
        let claim = try #require(facts["runs-pvc.yaml"])
        #expect((claim["spec"] as? [String: Any])?["accessModes"] as? [String] == ["ReadWriteMany"])

        // A wrong field is caught by the check itself.
        try f.write("bad.yaml", (try String(contentsOfFile: files[1], encoding: .utf8)).replacingOccurrences(of: "completionMode", with: "completionMod"))
        let bad = try TestSupport.python(Self.validate, [f.path("bad.yaml")])
        #expect(bad.status != 0 && (bad.stdout + bad.stderr).contains("unknown field"), "\(bad.stdout)\(bad.stderr)")
    }

    @Test func slurmScriptsRunEveryShardAndMergeAfterAnyEnd() async throws {
        try await offPool { try Self().slurmBody() }
    }

    func slurmBody() throws {
        let f = try ShardingTests.round("slurmscripts")
        let r = try Gascli.run(["cluster", "slurm", "spec.yaml", "--shards", "3", "--partition", "cpu", "--cpus-per-task", "2", "--time", "01:00:00",
                                "--output", f.path("runs"), "--run-id", "t-s"], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        let folder = f.path("runs/t-s/slurm")
        let array = try String(contentsOfFile: folder + "/shards.sbatch", encoding: .utf8)
        let merge = try String(contentsOfFile: folder + "/merge.sbatch", encoding: .utf8)
        #expect(array.hasPrefix("#!/bin/bash\n"))
        for line in ["#SBATCH --array=0-2", "#SBATCH --partition=cpu", "#SBATCH --cpus-per-task=2", "#SBATCH --time=01:00:00",
                     "#SBATCH --output=\(folder)/shard-%a.out", "--shard \"${SLURM_ARRAY_TASK_ID}/3\" --run-id t-s --output \(f.path("runs"))",
                     "cd \(f.root)", "/gascli run \(f.root)/spec.yaml"] {
            #expect(array.contains(line), "\(line) in:\n\(array)")
        }
        #expect(merge.contains("merge \(f.path("runs/t-s"))"), "\(merge)")
        #expect(r.stdout.contains("--dependency=afterany:$jid"), "\(r.stdout)")
        // bash accepts both scripts.
        for script in ["shards.sbatch", "merge.sbatch"] {
            let syntax = try TestSupport.run("/bin/bash", ["-n", folder + "/" + script])
            #expect(syntax.status == 0, "\(syntax.stderr)")
        }
        let zero = try Gascli.run(["cluster", "slurm", "spec.yaml", "--shards", "0"], cwd: f.root)
        #expect(zero.status == 2 && zero.stderr.contains("--shards 0"), "\(zero.stderr)")
    }
}
