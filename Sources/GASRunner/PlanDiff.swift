import Foundation
import GASCore
import GASSpec

/// Says in words what differs between two plans, so a refused resume tells the user what changed.
public enum PlanDiff {
    public static func describe(old: RunPlan, new: RunPlan) -> [String] {
        var changes: [String] = []
        let encoder = JSONEncoder.sorted
        if let a = try? encoder.encode(old.spec), let b = try? encoder.encode(new.spec), a != b {
            changes.append("the spec changed (\(specFields(old.spec, new.spec).joined(separator: ", ")))")
        }
        let oldSamples = Dictionary(old.samples.map { ($0.uri, $0) }, uniquingKeysWith: { a, _ in a })
        let newSamples = Dictionary(new.samples.map { ($0.uri, $0) }, uniquingKeysWith: { a, _ in a })
        let added = newSamples.keys.filter { oldSamples[$0] == nil }.sorted()
        let removed = oldSamples.keys.filter { newSamples[$0] == nil }.sorted()
        let altered = newSamples.filter { uri, sample in oldSamples[uri].map { $0.sha256 != sample.sha256 } ?? false }.keys.sorted()
        if !added.isEmpty || !removed.isEmpty || !altered.isEmpty {
            var parts: [String] = []
            if !altered.isEmpty { parts.append("\(altered.count) sample(s) have different bytes (e.g. \(altered[0]))") }
            if !added.isEmpty { parts.append("\(added.count) new (e.g. \(added[0]))") }
            if !removed.isEmpty { parts.append("\(removed.count) missing (e.g. \(removed[0]))") }
            changes.append("the data changed: " + parts.joined(separator: ", "))
        }
        let oldDetectors = Dictionary(old.detectors.map { ($0.spec.name, $0) }, uniquingKeysWith: { a, _ in a })
        for d in new.detectors {
            guard let before = oldDetectors[d.spec.name] else { continue }
            if before.artifactSHA256 != d.artifactSHA256 {
                changes.append("detector '\(d.spec.name)' changed (artifact sha256 \(before.artifactSHA256?.prefix(12) ?? "none") -> \(d.artifactSHA256?.prefix(12) ?? "none"))")
            }
        }
        if old.toolVersion != new.toolVersion { changes.append("gascli changed (\(old.toolVersion) -> \(new.toolVersion))") }
        if old.schemaVersion != new.schemaVersion { changes.append("the plan schema changed (\(old.schemaVersion) -> \(new.schemaVersion))") }
        return changes.isEmpty ? ["the plans differ in a way not itemised here; compare the two manifest.json files"] : changes
    }

    static func specFields(_ a: RoundSpec, _ b: RoundSpec) -> [String] {
        var fields: [String] = []
        func check<T: Encodable>(_ name: String, _ x: T, _ y: T) {
            let e = JSONEncoder.sorted
            if (try? e.encode(x)) != (try? e.encode(y)) { fields.append(name) }
        }
        check("round", a.round, b.round)
        check("catalogs", a.catalogs, b.catalogs)
        check("sources", a.sources, b.sources)
        check("detectors", a.detectors, b.detectors)
        check("scoring", a.scoring, b.scoring)
        check("outputs", a.outputs, b.outputs)
        return fields.isEmpty ? ["version"] : fields
    }
}
