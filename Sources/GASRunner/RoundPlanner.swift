import Foundation
import GASCore
import GASData
import GASSpec
import GASStore

/// spec -> plan: loads catalogs, collects and stores the samples, identifies the detectors.
public enum RoundPlanner {
    public struct Planned: Sendable {
        public var plan: RunPlan
        public var manifestHash: String
        public var outputs: String
        public var warnings: [String]
    }

    /// The outputs folder a spec writes to (`outputs.directory` or `--output`), absolute.
    public static func outputsDirectory(_ loaded: LoadedSpec, outputsOverride: String?) -> String {
        PathResolution.resolve(outputsOverride ?? loaded.spec.outputs.directory, against: FileManager.default.currentDirectoryPath)
    }

    /// `generatorMedia[i]`: the accepted media of generator source i (live: collected before planning;
    /// store: read from the generator store). A live source without media plans no samples.
    public static func plan(_ loaded: LoadedSpec, outputsOverride: String? = nil, observer: any RunObserver = SilentObserver(),
                            generatorMedia: [Int: [GeneratorMedia]]? = nil) throws -> Planned {
        let spec = loaded.spec
        let catalog = try CatalogLoader.load(paths: spec.catalogs.map { loaded.resolve($0) })
        let outputs = outputsDirectory(loaded, outputsOverride: outputsOverride)
        do {
            try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
        } catch {
            throw RunnerError.outputs(path: outputs, reason: "\(error.localizedDescription); choose another folder with outputs.directory or --output")
        }
        let store = MediaStore(root: outputs)
        var planWarnings: [String] = []
        var media = generatorMedia ?? [:]
        if generatorMedia == nil {
            for (i, source) in spec.sources.enumerated() {
                guard case let .generator(g) = source else { continue }
                switch g.from {
                case .live:
                    planWarnings.append("sources[\(i)]: a live generator source is collected when the round runs; this plan has none of its samples")
                case .store:
                    let path = GeneratorRound.storePath(outputs: outputs)
                    if FileManager.default.fileExists(atPath: path) {
                        let snapshot = try GeneratorRound.fromStore(try RunLedger(path: path), source: g, sourceIndex: i, roundSeed: spec.round.seed)
                        media[i] = snapshot.media
                    }
                }
            }
        }
        let report = CollectionReport()
        let samples = try SampleCollector.collect(spec: spec, catalog: catalog, store: store, generatorMedia: media, report: report) { step, done, total in
            observer.handle(.step(step, done: done, total: total))
        }
        let detectors = zip(spec.detectors, try DetectorFactory.artifactHashes(spec.detectors, loaded: loaded)).map {
            PlannedDetector(spec: $0, artifactSHA256: $1)
        }
        var plan = RunPlan(schemaVersion: RunPlan.schemaVersion, toolVersion: ToolInfo.version, spec: spec,
                           samples: samples, detectors: detectors)
        if !report.skippedDatasets.isEmpty { plan.skippedDatasets = report.skippedDatasets }
        let warnings = (loaded.warnings + catalog.warnings).map(\.description) + planWarnings + report.warnings
            + report.skippedDatasets.map { "skipped dataset '\($0.name)': \($0.reason)" }
        return Planned(plan: plan, manifestHash: try plan.manifestHash(), outputs: outputs, warnings: warnings)
    }
}
