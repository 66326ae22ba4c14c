import Foundation
import GASSpec

/// The library function behind `gascli validate`: the spec and every catalog it names, all errors at once.
public enum SpecValidation {
    public struct Report: Sendable {
        public var specPath: String
        public var errors: [SpecDiagnostic]
        public var warnings: [SpecDiagnostic]
        public var datasetCount: Int
        public var detectorCount: Int
        public var isValid: Bool { errors.isEmpty }
    }

    public static func validate(specPath: String) -> Report {
        var errors: [SpecDiagnostic] = [], warnings: [SpecDiagnostic] = []
        var datasets = 0, detectors = 0
        do {
            let loaded = try SpecLoader.load(path: specPath)
            warnings += loaded.warnings
            detectors = loaded.spec.detectors.count
            do {
                let catalog = try CatalogLoader.load(paths: loaded.spec.catalogs.map { loaded.resolve($0) })
                warnings += catalog.warnings
                datasets = catalog.entries.count
            } catch let e as SpecErrors {
                errors += e.errors
                warnings += e.diagnostics.filter { $0.severity == .warning }
            }
        } catch let e as SpecErrors {
            errors += e.errors
            warnings += e.diagnostics.filter { $0.severity == .warning }
        } catch {
            errors.append(SpecDiagnostic(file: specPath, line: 1, column: 1, field: "", message: "\(error)"))
        }
        return Report(specPath: specPath, errors: errors, warnings: warnings, datasetCount: datasets, detectorCount: detectors)
    }
}
