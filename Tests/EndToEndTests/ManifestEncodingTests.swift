import Foundation
import GASCore
import GASRunner
import GASSpec
import GASTestSupport
import Testing

/// The streamed manifest encoder must write exactly JSONEncoder's bytes (the manifest hash of
/// every earlier run depends on them), for awkward strings too.
@Suite struct ManifestEncodingTests {
    @Test func streamedManifestEqualsJSONEncoderByteForByte() throws {
        let dir = try TestSupport.temporaryDirectory("manifest-encoding")
        let specPath = dir + "/spec.yaml"
        try """
            version: 1
            round: {name: enc, seed: 3, modalities: [image, audio]}
            catalogs: [\(TestSupport.repositoryRoot)/datasets/catalog.yaml]
            sources:
              - {kind: real, datasets: ["*-real"], samples: 4}
            detectors:
              - {name: base, adapter: builtin, model: image-baseline}
            outputs: {directory: runs}

            """.write(toFile: specPath, atomically: true, encoding: .utf8)
        let loaded = try SpecLoader.load(path: specPath)
        let controls = String(decoding: (0..<0x80).map { UInt8($0) }, as: UTF8.self)
        let awkward = ["plain", "a/b\\c\"d", controls, "naïve 東京 🎉 \u{2028}\u{2029}", "", "\u{7f}\u{85}"]
        var samples: [PlannedSample] = []
        for (i, text) in awkward.enumerated() {
            samples.append(PlannedSample(id: "id-\(i)", uri: "file:///x/\(text)", sha256: String(repeating: "a", count: 64), byteCount: i * 1_000_003,
                                         dataset: text, sourceKind: .real, mediaType: i % 2 == 0 ? .real : .synthetic,
                                         modality: i % 3 == 0 ? .audio : .image, seed: UInt64.max >> UInt64(i), format: "png",
                                         mediaPath: "media/aa/\(i).png", skipReason: i % 2 == 0 ? nil : text,
                                         generatorFamily: i % 3 == 1 ? nil : "family \(text)"))
        }
        // Packed ids and sha256s with media paths derived from them, and formats that need escaping.
        let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        for (i, format) in ["png", "j\"p\\g", "a\u{1}b", "été"].enumerated() {
            samples.append(PlannedSample(id: String(format: "%024x", i + 1), uri: "dataset://d/x.parquet#row=\(i)", sha256: sha,
                                         byteCount: 7, dataset: "d", sourceKind: .real, mediaType: .real, modality: .image, seed: 0,
                                         format: format, mediaPath: PlannedSample.storePath(sha256: sha, format: format)))
        }
        let detectors = [PlannedDetector(spec: loaded.spec.detectors[0], artifactSHA256: "abc")]
        for skipped in [nil, [SkippedDataset(name: "x/y", reason: "unreadable \"shard\"")]] as [[SkippedDataset]?] {
            // More than two blocks of samples: the hash writes the sample list on all cores, a
            // window of 2 blocks per core at a time while the last is hashed; more than two windows,
            // the last one short.
            let many = (0..<((4 * ProcessInfo.processInfo.activeProcessorCount + 1) * 4096 + 5)).map { i -> PlannedSample in
                var s = samples[i % samples.count]
                s.id = "id-\(i)"
                return s
            }
            for sampleList in [samples, [], Array(samples.prefix(1)), many] {
                var plan = RunPlan(schemaVersion: RunPlan.schemaVersion, toolVersion: ToolInfo.version, spec: loaded.spec,
                                   samples: sampleList, detectors: detectors)
                plan.skippedDatasets = skipped
                let expected = try plan.encodedByJSONEncoder()
                #expect(try plan.canonicalJSON() == expected)
                let hash = try plan.manifestHash()
                let written = try plan.writeCanonicalJSON(to: dir + "/manifest.json")
                #expect(hash == written)
                #expect(FileManager.default.contents(atPath: dir + "/manifest.json") == expected)
                // The draft the runner moves into the run directory: written on all cores while hashed.
                #expect(try plan.manifestHash(writingTo: dir + "/draft.json") == hash)
                #expect(FileManager.default.contents(atPath: dir + "/draft.json") == expected)
            }
        }
    }
}
