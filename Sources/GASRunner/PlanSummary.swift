import Foundation
import GASCore
import GASSpec

/// The library function behind `gascli plan`: everything a run would do, without running it.
public enum PlanPreview {
    public struct Summary: Sendable {
        public var manifestHash: String
        /// The plan, for `writeManifestJSON`.
        let plan: RunPlan
        public var samples: Int
        public var skipped: Int
        public var bySource: [(String, Int)]
        public var byDataset: [(String, Int)]
        public var byLabel: [(String, Int)]
        public var detectors: [(name: String, adapter: String, artifact: String?)]
        public var warnings: [String]

        /// The manifest (canonical JSON) in pieces, as it is written: a million-sample plan's is
        /// about 400 MB, which is never held whole.
        public func writeManifestJSON(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
            try ManifestJSON.write(plan, to: sink)
        }
    }

    /// Plans the spec (reading datasets and generating synthetic media into the media store
    /// under the outputs directory, as a run would) and summarises the plan.
    public static func preview(specPath: String, outputDirectory: String?, observer: any RunObserver = SilentObserver()) throws -> Summary {
        let loaded = try SpecLoader.load(path: specPath)
        let planned = try RoundPlanner.plan(loaded, outputsOverride: outputDirectory, observer: observer)
        let samples = planned.plan.samples
        // Counted in place: grouping copied every sample into an array per key, once per table.
        func counts(_ key: (PlannedSample) -> String) -> [(String, Int)] {
            var counts: [String: Int] = [:]
            for i in samples.indices { counts[key(samples[i]), default: 0] += 1 }
            return counts.map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 }
        }
        return Summary(
            manifestHash: planned.manifestHash, plan: planned.plan, samples: samples.count,
            skipped: samples.filter { $0.skipReason != nil }.count,
            bySource: counts { $0.sourceKind.rawValue }, byDataset: counts(\.dataset),
            byLabel: counts { $0.label == 0 ? "real (0)" : "ai (1)" },
            detectors: planned.plan.detectors.map { ($0.spec.name, $0.spec.adapter.rawValue, $0.artifactSHA256) },
            warnings: planned.warnings)
    }
}
