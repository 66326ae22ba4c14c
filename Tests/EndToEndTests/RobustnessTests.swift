import Foundation
import GASTestSupport
import Testing

/// `augment: {robustness_share}`: gasbench's robustness suite on a share of the images, scored
/// apart from the base metrics, reproducible by rescore and audit.
@Suite struct RobustnessTests {
    @Test func aShareOfImagesIsAugmentedAndScoredSeparately() async throws {
        try await offPool { try Self().aShareOfImagesIsAugmentedAndScoredSeparatelyBody() }
    }

    func aShareOfImagesIsAugmentedAndScoredSeparatelyBody() throws {
        let f = try RoundFixture("robustness")
        try f.copyPhotos(8)
        try f.write("catalog.yaml", "datasets:\n  - {name: p-real, path: photos, modality: image, media_type: real}\n")
        let spec = f.spec(real: "samples: 8", synthetic: 8) + "\naugment: {robustness_share: 0.5}\n"
        try f.write("spec.yaml", spec)
        let (dir, run) = try Gascli.runQuiet("spec.yaml", output: f.path("runs"), cwd: f.root)
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))) as? [String: Any])
        let samples = try #require(manifest["samples"] as? [[String: Any]])
        let augmented = samples.filter { ($0["uri"] as? String)?.hasPrefix("augment://robustness-v1/") == true }
        let base = samples.count - augmented.count
        #expect(base == 16)
        #expect(augmented.count > 2 && augmented.count < 14, "about half of 16: \(augmented.count)")
        #expect(augmented.allSatisfy { $0["format"] as? String == "jpg" })
        let ids = Set(samples.compactMap { $0["id"] as? String })
        #expect(augmented.allSatisfy { ids.contains(String(($0["uri"] as? String ?? "").dropFirst("augment://robustness-v1/".count))) })
        let results = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/results.json"))) as? [String: Any])
        let overall = try #require(((results["detectors"] as? [String: Any])?["base"] as? [String: Any])?["overall"] as? [String: Any])
        #expect(overall["samples"] as? Int == 16, "augmented copies stay out of the base metrics")
        let robustness = try #require((results["robustness"] as? [String: Any])?["base"] as? [String: Any])
        #expect((robustness["metrics"] as? [String: Any])?["samples"] as? Int == augmented.count)
        #expect(robustness["paired_samples"] as? Int == augmented.count)
        #expect(robustness["augmentation_robustness"] as? Double != nil && robustness["mean_prob_degradation"] as? Double != nil)
        // Same spec again: the same augmented samples (selection follows the sample seeds).
        let again = try Gascli.runQuiet("spec.yaml", output: f.path("runs2"), cwd: f.root)
        let manifest2 = try String(contentsOfFile: again.dir + "/manifest.json", encoding: .utf8)
        #expect(manifest2 == (try String(contentsOfFile: dir + "/manifest.json", encoding: .utf8)))
        // Rescore and audit re-derive everything from the stored predictions.
        var r = try Gascli.run(["rescore", dir], cwd: f.root)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        r = try Gascli.run(["audit", "export", dir, "-o", f.path("bundle.tar.gz")], cwd: f.root)
        #expect(r.status == 0, "\(r.stderr)")
        r = try Gascli.run(["audit", "verify", f.path("bundle.tar.gz")], cwd: f.root)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        // A spec without images cannot ask for it.
        try f.write("bad.yaml", "version: 1\nround: {name: x, modalities: [audio]}\nsources: [{kind: synthetic, generator: builtin/procedural-speech, samples: 1}]\ndetectors: [{name: a, adapter: builtin, model: audio-baseline}]\naugment: {robustness_share: 0.2}\n")
        r = try Gascli.run(["validate", "bad.yaml"], cwd: f.root)
        #expect(r.status == 2 && r.stderr.contains("augments images"), "\(r.stderr)")
    }
}
