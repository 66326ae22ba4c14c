import Foundation
import GASTestSupport
import Testing
@testable import GASCore
@testable import GASSpec

/// Loads specs from text in a temporary folder (with a real catalog file beside them).
struct SpecFixture {
    let directory: String

    init() throws {
        directory = try TestSupport.temporaryDirectory("gas-spec")
        try FileManager.default.createDirectory(atPath: directory + "/data/photos", withIntermediateDirectories: true)
        try "datasets:\n  - {name: photos-real, path: data/photos, modality: image, media_type: real, source_format: png}\n"
            .write(toFile: directory + "/catalog.yaml", atomically: true, encoding: .utf8)
    }

    func load(_ yaml: String) throws -> LoadedSpec {
        try SpecLoader.parse(text: yaml, file: "spec.yaml", directory: directory)
    }

    func errors(_ yaml: String) -> [SpecDiagnostic] {
        do {
            _ = try load(yaml)
            return []
        } catch let e as SpecErrors {
            return e.errors
        } catch {
            return [SpecDiagnostic(file: "?", line: 0, column: 0, field: "", message: "\(error)")]
        }
    }
}

let validSpec = """
version: 1
round:
  name: test
  seed: 7
  modalities: [image]
catalogs: [catalog.yaml]
sources:
  - kind: real
    datasets: ["*-real"]
    samples: 10
  - kind: synthetic
    generator: builtin/procedural
    samples: 5
    semisynthetic_share: 0.2
detectors:
  - name: base
    adapter: builtin
    model: image-baseline
  - name: proc
    adapter: process
    command: [python3, det.py]
    batch_size: 8
    timeout: 2m
scoring:
  on_failure: exclude
"""

@Suite struct SpecLoaderTests {
    @Test func loadsAValidSpecWithDefaults() throws {
        let f = try SpecFixture()
        let spec = try f.load(validSpec).spec
        #expect(spec.round.name == "test")
        #expect(spec.round.seed == 7)
        #expect(spec.round.benchmarkVersion == 1)
        #expect(spec.sources.count == 2)
        guard case let .synthetic(s) = spec.sources[1] else { Issue.record("expected synthetic"); return }
        #expect(s.generator == "procedural" && s.samples == 5 && s.semisyntheticShare == 0.2 && s.width == 128)
        #expect(spec.detectors[1].batchSize == 8)
        #expect(spec.detectors[1].timeoutSeconds == 120)
        #expect(spec.detectors[0].batchSize == 16)
        #expect(spec.scoring.onFailure == .exclude)
        #expect(spec.scoring.parameters == SN34Parameters(alpha: 1.2, beta: 1.8))
        #expect(spec.outputs.directory == "runs")
    }

    @Test func unknownKeyNamesLineColumnAndSuggestion() throws {
        let f = try SpecFixture()
        let errs = f.errors(validSpec.replacingOccurrences(of: "    batch_size: 8", with: "    batch_sise: 8"))
        #expect(errs.count == 1)
        let e = try #require(errs.first)
        #expect(e.line == 22 && e.column == 5)
        #expect(e.field == "detectors[1].batch_sise")
        #expect(e.message.contains("did you mean 'batch_size'"))
        #expect(e.description.hasPrefix("spec.yaml:22:5: error:"))
    }

    @Test func wrongTypeSaysWhatWasExpected() throws {
        let f = try SpecFixture()
        let errs = f.errors(validSpec.replacingOccurrences(of: "batch_size: 8", with: "batch_size: eight"))
        #expect(errs.map(\.field) == ["detectors[1].batch_size"])
        #expect(errs[0].message.contains("expected a whole number, found the string 'eight'"))
    }

    @Test func badEnumListsAllowedValues() throws {
        let f = try SpecFixture()
        let errs = f.errors(validSpec.replacingOccurrences(of: "adapter: process", with: "adapter: proces"))
        #expect(errs.count == 1)
        #expect(errs[0].message.contains("builtin, process, predictions"))
        #expect(errs[0].message.contains("did you mean 'process'"))
    }

    @Test func reportsEveryErrorAtOnce() throws {
        let f = try SpecFixture()
        let broken = validSpec
            .replacingOccurrences(of: "  seed: 7", with: "  seed: -3")
            .replacingOccurrences(of: "modalities: [image]", with: "modalities: [image, smell]")
            .replacingOccurrences(of: "    samples: 10", with: "    samples: 0")
            .replacingOccurrences(of: "on_failure: exclude", with: "on_failure: ignore")
            .replacingOccurrences(of: "    model: image-baseline\n", with: "")
        let errs = f.errors(broken)
        let fields = Set(errs.map(\.field))
        #expect(fields.isSuperset(of: ["round.seed", "round.modalities[1]", "sources[0].samples", "scoring.on_failure", "detectors[0].model"]))
        #expect(errs.allSatisfy { $0.line > 0 && $0.column > 0 })
    }

    @Test func malformedYAMLPointsAtTheProblem() throws {
        let f = try SpecFixture()
        let errs = f.errors("version: 1\nround:\n  name: [unclosed\n  seed: 3\n")
        #expect(errs.count == 1)
        #expect(errs[0].message.hasPrefix("malformed YAML"))
        #expect(errs[0].line >= 3)
    }

    @Test func missingCatalogIsAnError() throws {
        let f = try SpecFixture()
        let errs = f.errors(validSpec.replacingOccurrences(of: "catalogs: [catalog.yaml]", with: "catalogs: [nope.yaml]"))
        #expect(errs.count == 1)
        #expect(errs[0].field == "catalogs[0]")
        #expect(errs[0].message.contains("does not exist"))
    }

    @Test func missingTopLevelFields() throws {
        let f = try SpecFixture()
        let errs = f.errors("version: 1\n")
        #expect(Set(errs.map(\.field)) == ["round", "sources", "detectors"])
    }

    @Test func duplicateDetectorNames() throws {
        let f = try SpecFixture()
        let errs = f.errors(validSpec.replacingOccurrences(of: "name: proc", with: "name: base"))
        #expect(errs.count == 1 && errs[0].message.contains("used twice"))
    }

    @Test func adapterSpecificFieldsAreChecked() throws {
        let f = try SpecFixture()
        let errs = f.errors(validSpec.replacingOccurrences(of: "    model: image-baseline", with: "    model: image-baseline\n    command: [x]"))
        #expect(errs.count == 1 && errs[0].message.contains("only applies to adapter process"))
    }

    @Test func durations() {
        #expect(Duration.parseSeconds("30s") == 30)
        #expect(Duration.parseSeconds("500ms") == 0.5)
        #expect(Duration.parseSeconds("2m") == 120)
        #expect(Duration.parseSeconds("1h") == 3600)
        #expect(Duration.parseSeconds("12") == 12)
        #expect(Duration.parseSeconds("soon") == nil)
    }
}

@Suite struct CatalogLoaderTests {
    @Test func loadsEntriesAndResolvesPaths() throws {
        let f = try SpecFixture()
        let catalog = try CatalogLoader.load(path: f.directory + "/catalog.yaml")
        #expect(catalog.entries.count == 1)
        #expect(catalog.entries[0].path == f.directory + "/data/photos")
        #expect(catalog.entries[0].mediaType == .real)
    }

    @Test func unusedGasbenchFieldsWarnAndUnknownFieldsFail() throws {
        let f = try SpecFixture()
        let text = """
        datasets:
          - name: a
            path: data/photos
            modality: image
            media_type: synthetic
            generator_variant: v2
            colour: blue
        """
        #expect(throws: SpecErrors.self) { try CatalogLoader.parse(text: text, file: "c.yaml", directory: f.directory) }
        let ok = try CatalogLoader.parse(text: text.replacingOccurrences(of: "    colour: blue", with: ""), file: "c.yaml", directory: f.directory)
        #expect(ok.warnings.count == 1)
        #expect(ok.warnings[0].message.contains("not used"))
    }

    @Test func missingDatasetPathAndHubIds() throws {
        let f = try SpecFixture()
        let text = """
        datasets:
          - {name: a, path: nowhere, modality: image, media_type: real}
          - {name: b, path: 34data/Shooter-real, modality: image, media_type: real, source_format: parquet}
          - {name: c, path: data/photos, modality: picture, media_type: fake}
        """
        do {
            _ = try CatalogLoader.parse(text: text, file: "c.yaml", directory: f.directory)
            Issue.record("expected errors")
        } catch let e as SpecErrors {
            let messages = e.errors.map(\.message)
            #expect(messages.contains { $0.contains("does not exist") })
            #expect(messages.contains { $0.contains("hub repository id") })
            #expect(messages.contains { $0.contains("'picture' is not one of image, video, audio") })
            #expect(messages.contains { $0.contains("'fake' is not one of real, synthetic, semisynthetic") })
        }
    }
}
