import Foundation
import GASStore

/// `gascli d perf`: a registered model's results across the runs under an outputs folder, found by
/// its content hash (the artifact hash package detectors are planned with).
public enum ModelPerformance {
    public struct Row: Sendable, Encodable {
        public var run: String
        public var round: String
        public var finishedAt: String
        public var detector: String
        public var sn34: Double
        public var accuracy: Double
        public var mcc: Double
        public var brier: Double
        public var coverage: Double
        public var samples: Int
        public var modalitySN34: [String: Double]

        enum CodingKeys: String, CodingKey {
            case run, round, detector, sn34, accuracy, mcc, brier, coverage, samples
            case finishedAt = "finished_at", modalitySN34 = "modality_sn34"
        }
    }

    public struct Report: Sendable, Encodable {
        public var model: RegisteredModel
        public var rows: [Row]
    }

    public static func openRegistry(_ root: String?) throws -> ModelRegistry {
        let path = PathResolutionShim.absolute(root ?? ModelRegistry.defaultRoot)
        return try ModelRegistry(root: path, create: true)
    }

    public static func report(model reference: String, registry: String?, outputs: String) throws -> Report {
        let model = try openRegistry(registry).resolve(reference)
        var rows: [Row] = []
        let root = PathResolutionShim.absolute(outputs)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        for name in names.sorted() {
            let file = ((root as NSString).appendingPathComponent(name) as NSString).appendingPathComponent("results.json")
            guard let data = FileManager.default.contents(atPath: file),
                  let doc = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let run = doc["run"] as? [String: Any], let detectors = doc["detectors"] as? [String: Any] else { continue }
            for (detector, value) in detectors.sorted(by: { $0.key < $1.key }) {
                guard let d = value as? [String: Any], d["artifact_sha256"] as? String == model.contentHash,
                      let overall = d["overall"] as? [String: Any] else { continue }
                var perModality: [String: Double] = [:]
                if let breakdowns = d["breakdowns"] as? [String: Any], let modality = breakdowns["modality"] as? [String: Any] {
                    for (k, v) in modality { if let m = v as? [String: Any], let s = m["sn34"] as? Double { perModality[k] = s } }
                }
                func number(_ key: String, _ from: [String: Any]) -> Double { (from[key] as? Double) ?? Double(from[key] as? Int ?? 0) }
                rows.append(Row(run: run["id"] as? String ?? name, round: run["round"] as? String ?? "",
                                finishedAt: run["finished_at"] as? String ?? "", detector: detector,
                                sn34: number("sn34", d), accuracy: number("accuracy", overall), mcc: number("mcc", overall),
                                brier: number("brier", overall), coverage: number("coverage", d),
                                samples: overall["samples"] as? Int ?? overall["count"] as? Int ?? 0, modalitySN34: perModality))
            }
        }
        rows.sort { ($0.finishedAt, $0.run, $0.detector) < ($1.finishedAt, $1.run, $1.detector) }
        return Report(model: model, rows: rows)
    }
}
