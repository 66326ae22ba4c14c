import Foundation
import GASCore
import GASData
import GASSpec

/// spec -> plan: loads catalogs, collects and stores the samples, identifies the detectors.
public enum RoundPlanner {
    public struct Planned: Sendable {
        public var plan: RunPlan
        public var manifestHash: String
        public var outputs: String
        public var warnings: [String]
    }

    public static func plan(_ loaded: LoadedSpec, outputsOverride: String? = nil, observer: any RunObserver = SilentObserver()) throws -> Planned {
        let spec = loaded.spec
        let catalog = try CatalogLoader.load(paths: spec.catalogs.map { loaded.resolve($0) })
        let outputs = PathResolution.resolve(outputsOverride ?? spec.outputs.directory,
                                             against: FileManager.default.currentDirectoryPath)
        do {
            try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
        } catch {
            throw RunnerError.outputs(path: outputs, reason: "\(error.localizedDescription); choose another folder with outputs.directory or --output")
        }
        let store = MediaStore(root: outputs)
        let report = CollectionReport()
        let samples = try SampleCollector.collect(spec: spec, catalog: catalog, store: store, report: report) { step, done, total in
            observer.handle(.step(step, done: done, total: total))
        }
        let detectors = try spec.detectors.map { PlannedDetector(spec: $0, artifactSHA256: try DetectorFactory.artifactHash($0, loaded: loaded)) }
        var plan = RunPlan(schemaVersion: RunPlan.schemaVersion, toolVersion: ToolInfo.version, spec: spec,
                           samples: samples, detectors: detectors)
        if !report.skippedDatasets.isEmpty { plan.skippedDatasets = report.skippedDatasets }
        let warnings = (loaded.warnings + catalog.warnings).map(\.description) + report.warnings
            + report.skippedDatasets.map { "skipped dataset '\($0.name)': \($0.reason)" }
        return Planned(plan: plan, manifestHash: try plan.manifestHash(), outputs: outputs, warnings: warnings)
    }
}
