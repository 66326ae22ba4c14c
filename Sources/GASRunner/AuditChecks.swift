import GASCore
import GASData
import GASStore

/// The checks of `gascli audit verify` that compare recorded facts: hashes, identities, the plan
/// and the row-level predictions. Each returns one named item; none trusts any member over another.
extension AuditEvidence {
    /// Every file in the bundle hashes to what checksums.json lists, and nothing is missing or extra.
    func checksumsItem() -> AuditItem {
        var f = Findings()
        var count = 0
        if let sums = f.need(checksums) {
            if sums.format != AuditBundle.format || sums.version != AuditBundle.version {
                f.add("checksums.json: format '\(sums.format)' version \(sums.version), this gascli reads '\(AuditBundle.format)' version \(AuditBundle.version)")
            }
            var present: [String: String] = [:]
            for (member, bytes) in contents.files where member != .checksums { present[member.rawValue] = AuditBundle.sha256Hex(bytes) }
            for (path, digest) in contents.media { present[path] = digest.sha256 }
            count = present.count
            for (path, actual) in present.sorted(by: { $0.key < $1.key }) {
                if let listed = sums.files[path] {
                    if listed != actual { f.add("\(path): sha256 \(short(actual)) != checksums.json \(short(listed))") }
                } else {
                    f.add("\(path) is not listed in checksums.json")
                }
            }
            for path in sums.files.keys.sorted() where present[path] == nil {
                f.add("\(path) is listed in checksums.json but missing from the bundle")
            }
        }
        return f.item("file checksums", passed: "\(count) files match checksums.json")
    }

    /// The run folder, checksums.json, the ledger and results.json name the same run.
    func runIdentityItem() -> AuditItem {
        var f = Findings()
        if let sums = f.need(checksums), sums.runID != runID {
            f.add("checksums.json names run '\(sums.runID)', the bundle folder '\(runID)'")
        }
        // The ledger is loaded by the folder's run id: a ledger without that run fails to load.
        _ = f.need(ledger)
        if let results = f.need(results), results.run.id != runID {
            f.add("results.json names run '\(results.run.id)', the bundle folder '\(runID)'")
        }
        return f.item("run identity", passed: "folder, checksums.json, ledger and results.json all name \(runID)")
    }

    /// sha256(manifest.json) is the manifest hash recorded in results.json and in the ledger.
    func manifestHashItem() -> AuditItem {
        var f = Findings()
        var hash = ""
        if let bytes = f.need(bytes(.manifest)) {
            hash = AuditBundle.sha256Hex(bytes)
            if let results = f.need(results), results.run.manifestHash != hash {
                f.add("sha256(manifest.json) \(short(hash)) != results.json manifest_hash \(short(results.run.manifestHash))")
            }
            if let ledger = f.need(ledger), ledger.run.manifestHash != hash {
                f.add("sha256(manifest.json) \(short(hash)) != ledger runs.manifest_hash \(short(ledger.run.manifestHash))")
            }
        }
        return f.item("manifest hash", passed: "sha256(manifest.json) \(hash) = results.json = ledger")
    }

    /// The spec as written and as resolved are the ledger's, and the resolved spec is the plan's.
    func specItem() -> AuditItem {
        var f = Findings()
        let ledger = f.need(ledger)
        if let yaml = f.need(bytes(.spec)), let ledger, yaml != Array(ledger.run.specText.utf8) {
            f.add("spec.yaml differs from the ledger's runs.spec_text")
        }
        if let json = f.need(bytes(.resolvedSpec)), let ledger, json != Array(ledger.run.resolvedSpecJSON.utf8) {
            f.add("resolved-spec.json differs from the ledger's runs.resolved_spec_json")
        }
        if let resolved = f.need(resolvedSpec), let plan = f.need(plan), resolved != plan.spec {
            f.add("resolved-spec.json differs from the spec frozen in manifest.json")
        }
        return f.item("spec", passed: "spec.yaml and resolved-spec.json equal the ledger's; the resolved spec is the manifest's")
    }

    /// The plan's samples are the ledger's, field by field, and data-hashes.json lists exactly them.
    func samplesItem() -> AuditItem {
        var f = Findings()
        var count = 0
        if let plan = f.need(plan) {
            count = plan.samples.count
            var seen = Set<String>()
            for s in plan.samples {
                if !seen.insert(s.id).inserted { f.add("manifest.json lists sample \(s.id) twice") }
                if s.mediaPath != MediaStore.relativePath(sha256: s.sha256, format: s.format) {
                    f.add("manifest.json sample \(s.id): media_path \(s.mediaPath) is not media/\(s.sha256.prefix(2))/\(s.sha256).\(s.format)")
                }
            }
            if let ledger = f.need(ledger) {
                if ledger.samples.count != plan.samples.count {
                    f.add("manifest.json has \(plan.samples.count) samples, the ledger \(ledger.samples.count)")
                }
                for (position, (planned, stored)) in zip(plan.samples, ledger.samples).enumerated() {
                    let differences = Self.sampleDifferences(planned, stored)
                    if !differences.isEmpty {
                        f.add("sample \(planned.id) (position \(position)): \(differences.prefix(3).joined(separator: ", ")) in the ledger")
                    }
                }
            }
            if let hashes = f.need(dataHashes) {
                for s in plan.samples {
                    guard let h = hashes[s.id] else {
                        f.add("data-hashes.json lacks sample \(s.id)")
                        continue
                    }
                    if h.sha256 != s.sha256 { f.add("sample \(s.id): data-hashes.json sha256 \(short(h.sha256)) != manifest \(short(s.sha256))") }
                    if h.bytes != s.byteCount { f.add("sample \(s.id): data-hashes.json bytes \(h.bytes) != manifest \(s.byteCount)") }
                }
                for id in Set(hashes.keys).subtracting(seen).sorted() { f.add("data-hashes.json lists sample \(id), which is not in the manifest") }
            }
        }
        return f.item("samples vs ledger and data-hashes", passed: "\(count) samples: manifest = ledger = data-hashes.json (ids, sha256, bytes, labels)")
    }

    static func sampleDifferences(_ a: PlannedSample, _ b: PlannedSample) -> [String] {
        var d = Differences(other: "")
        d.compare("id", a.id, b.id)
        d.compare("uri", a.uri, b.uri)
        d.compare("sha256", a.sha256, b.sha256)
        d.compare("bytes", a.byteCount, b.byteCount)
        d.compare("dataset", a.dataset, b.dataset)
        d.compare("source_kind", a.sourceKind.rawValue, b.sourceKind.rawValue)
        d.compare("media_type", a.mediaType.rawValue, b.mediaType.rawValue)
        d.compare("modality", a.modality.rawValue, b.modality.rawValue)
        d.compare("label", a.label, b.label)
        d.compare("seed", a.seed, b.seed)
        d.compare("format", a.format, b.format)
        d.compare("media_path", a.mediaPath, b.mediaPath)
        d.compare("skip_reason", a.skipReason, b.skipReason)
        d.compare("generator_family", a.generatorFamily, b.generatorFamily)
        return d.items
    }

    /// predictions.parquet holds exactly one row per planned (sample, detector) pair and nothing else:
    /// scoring skips rows it cannot join, so a dropped or foreign row must be caught here.
    func coverageItem() -> AuditItem {
        var f = Findings()
        var summary = ""
        if let rows = f.need(predictions), let plan = f.need(plan) {
            let sampleIDs = Set(plan.samples.map(\.id))
            let detectors = plan.detectors.map(\.spec.name)
            var seen = Set<String>()
            for (i, row) in rows.enumerated() {
                if !sampleIDs.contains(row.sampleID) { f.add("predictions.parquet row \(i + 1): sample \(row.sampleID) is not in the manifest") }
                if !detectors.contains(row.detector) { f.add("predictions.parquet row \(i + 1): detector '\(row.detector)' is not in the manifest") }
                if !seen.insert(row.detector + "\u{0}" + row.sampleID).inserted {
                    f.add("predictions.parquet row \(i + 1): sample \(row.sampleID) detector \(row.detector) appears twice")
                }
            }
            for detector in detectors {
                for s in plan.samples where !seen.contains(detector + "\u{0}" + s.id) {
                    f.add("predictions.parquet has no row for sample \(s.id) detector \(detector)")
                }
            }
            summary = "\(rows.count) rows = \(plan.samples.count) samples × \(detectors.count) detector(s), each once"
        }
        return f.item("predictions cover the plan", passed: summary)
    }

    /// Every column of predictions.parquet equals the ledger's outcome and sample rows, in order.
    func predictionsItem() -> AuditItem {
        var f = Findings()
        var count = 0
        if let rows = f.need(predictions), let ledger = f.need(ledger) {
            count = rows.count
            if rows.count != ledger.outcomes.count {
                f.add("predictions.parquet has \(rows.count) rows, the ledger \(ledger.outcomes.count) outcomes")
            }
            let samples = Dictionary(ledger.samples.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for (i, (row, o)) in zip(rows, ledger.outcomes).enumerated() {
                var d = Differences(other: "ledger ")
                d.compare("run_id", row.runID, runID)
                d.compare("sample_id", row.sampleID, o.sampleID)
                d.compare("detector", row.detector, o.detector)
                if let s = samples[o.sampleID] {
                    d.compare("uri", row.uri, s.uri)
                    d.compare("sha256", row.sha256, s.sha256)
                    d.compare("dataset", row.dataset, s.dataset)
                    d.compare("source_kind", row.sourceKind, s.sourceKind.rawValue)
                    d.compare("media_type", row.mediaType, s.mediaType.rawValue)
                    d.compare("modality", row.modality, s.modality.rawValue)
                    d.compare("label", Int(row.label), s.label)
                } else {
                    d.items.append("no such sample in the ledger")
                }
                d.compare("p_ai", row.pAI, o.pAI)
                d.compare("predicted", row.predicted.map(Int.init), o.predicted)
                d.compare("status", row.status, o.status.rawValue)
                d.compare("error", row.error, o.error)
                d.compare("latency_ms", row.latencyMs, o.latencyMs)
                d.compare("batch", Int(row.batch), o.batch)
                if !d.items.isEmpty {
                    f.add("row \(i + 1) sample \(o.sampleID) detector \(o.detector): \(d.summary)")
                }
            }
        }
        return f.item("predictions.parquet rows vs ledger", passed: "\(count) rows equal the ledger's outcomes and samples in every column")
    }

    /// With media in the bundle: each file hashes to its sample's sha256, and every sample the
    /// detectors saw has its file.
    func mediaItem() -> AuditItem {
        guard !contents.media.isEmpty else {
            return AuditItem(name: "media", status: .skip,
                             detail: "no media in the bundle (exported without --with-media); their sha256 are in the manifest and data-hashes.json")
        }
        var f = Findings()
        var checked = 0
        if let plan = f.need(plan) {
            let byPath = Dictionary(grouping: plan.samples, by: \.mediaPath)
            for (path, digest) in contents.media.sorted(by: { $0.key < $1.key }) {
                guard let samples = byPath[path] else {
                    f.add("\(path) belongs to no sample of the manifest")
                    continue
                }
                for s in samples {
                    checked += 1
                    if digest.sha256 != s.sha256 {
                        f.add("sample \(s.id): \(path) hashes to \(short(digest.sha256)), the manifest records \(short(s.sha256))")
                    } else if digest.bytes != s.byteCount {
                        f.add("sample \(s.id): \(path) has \(digest.bytes) bytes, the manifest records \(s.byteCount)")
                    }
                }
            }
            for s in plan.samples where s.skipReason == nil && contents.media[s.mediaPath] == nil {
                f.add("sample \(s.id): \(s.mediaPath) is missing from the bundle")
            }
        }
        return f.item("media", passed: "\(contents.media.count) files hash to their \(checked) samples' sha256; every scored sample has its media")
    }
}

/// A hash shortened for messages (the full values are in the files).
func short(_ hash: String) -> String {
    hash.count > 16 ? hash.prefix(12) + "…" : hash
}

extension Findings {
    /// The loaded value, or nil after recording why it could not be loaded.
    mutating func need<T>(_ loaded: Loaded<T>) -> T? {
        switch loaded {
        case .success(let value): return value
        case .failure(let problem):
            // One member often fails several lookups within a check; report it once.
            if !problems.contains(problem.message) { add(problem.message) }
            return nil
        }
    }
}

/// Field-by-field differences of two rows, as "name a != <other>b". Doubles compare by bit
/// pattern: "equal" in an audit means the same bits, so -0.0 and 0.0 or two NaNs are not excused.
struct Differences {
    /// What the right-hand side is, e.g. "ledger ".
    let other: String
    var items: [String] = []

    /// The first few differences, for one finding (a broken row can differ in many columns).
    var summary: String {
        let shown = items.prefix(3).joined(separator: ", ")
        return items.count > 3 ? shown + ", and \(items.count - 3) more" : shown
    }

    mutating func compare<T: Equatable>(_ name: String, _ a: T, _ b: T) {
        if a != b { items.append("\(name) \(render(a)) != \(other)\(render(b))") }
    }

    mutating func compare(_ name: String, _ a: Double, _ b: Double) {
        if a.bitPattern != b.bitPattern { items.append("\(name) \(a) != \(other)\(b)") }
    }

    mutating func compare(_ name: String, _ a: Double?, _ b: Double?) {
        if a?.bitPattern != b?.bitPattern { items.append("\(name) \(render(a)) != \(other)\(render(b))") }
    }

    mutating func compare(_ name: String, _ a: BinaryMetrics, _ b: BinaryMetrics) {
        compare("\(name)samples", a.samples, b.samples)
        compare("\(name)tp", a.truePositives, b.truePositives)
        compare("\(name)tn", a.trueNegatives, b.trueNegatives)
        compare("\(name)fp", a.falsePositives, b.falsePositives)
        compare("\(name)fn", a.falseNegatives, b.falseNegatives)
        compare("\(name)accuracy", a.accuracy, b.accuracy)
        compare("\(name)mcc", a.mcc, b.mcc)
        compare("\(name)brier", a.brier, b.brier)
        compare("\(name)cross_entropy", a.crossEntropy, b.crossEntropy)
        compare("\(name)sn34", a.sn34, b.sn34)
    }

    private func render<T>(_ value: T) -> String {
        if let optional = value as? any OptionalProtocol { return optional.rendered }
        if let text = value as? String { return text.count > 60 ? "'\(text.prefix(60))…'" : "'\(text)'" }
        return "\(value)"
    }
}

/// Lets `Differences` print nil as "null" and unwrap present values.
protocol OptionalProtocol {
    var rendered: String { get }
}

extension Optional: OptionalProtocol {
    var rendered: String {
        switch self {
        case .none: return "null"
        case .some(let value):
            if let text = value as? String { return text.count > 60 ? "'\(text.prefix(60))…'" : "'\(text)'" }
            return "\(value)"
        }
    }
}
