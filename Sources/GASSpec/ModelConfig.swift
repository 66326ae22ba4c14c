import Foundation
import GASCore
import Yams

/// `model_config.yaml` of a GAS model package (gasbench.md §2.2), as gasbench reads it.
public struct ModelConfig: Codable, Sendable, Hashable {
    public var name: String
    public var version: String?
    public var modality: Modality
    /// float32 (default), float16 or bfloat16; gasbench accepts fp32/fp16/bf16 spellings too.
    public var dtype: String
    /// Image and video frames are resized (shortest edge, centre crop) to [height, width].
    public var resize: [Int]?
    /// Video: frames per clip (`num_frames`, fallback `max_frames`, default 16, at most 64) and the
    /// optional sampling rate in frames per second.
    public var numFrames: Int?
    public var frameRate: Double?
    /// Audio: informational; gasbench always feeds 16 kHz × 6 s.
    public var sampleRate: Int?
    public var durationSeconds: Double?
    public var numClasses: Int
    public var weightsFile: String
    /// Every other `model:` key, passed to `load_model` as keyword arguments (JSON text values).
    public var modelArguments: [String: String]

    enum CodingKeys: String, CodingKey {
        case name, version, modality, dtype, resize
        case numFrames = "num_frames", frameRate = "frame_rate", sampleRate = "sample_rate"
        case durationSeconds = "duration_seconds", numClasses = "num_classes", weightsFile = "weights_file"
        case modelArguments = "model_arguments"
    }

    public static let dtypes = ["float32": "float32", "fp32": "float32", "float16": "float16", "fp16": "float16",
                                "bfloat16": "bfloat16", "bf16": "bfloat16"]
    public static let maxFrames = 64

    /// Parses and checks the file; every problem is reported at once, naming the file.
    public static func parse(text: String, file: String) throws -> ModelConfig {
        var problems: [String] = []
        let root: Any?
        if let v = YAMLBounds.check(text) {
            throw ModelConfigError(file: file, problems: ["line \(v.line), column \(v.column): \(v.message)"])
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ModelConfigError(file: file, problems: ["not valid YAML: \(error)"])
        }
        // Yams' constructor force-unwraps mapping keys as strings: a key that is a list or a
        // mapping (`{[a]: b}`) would crash the process, so such keys are refused first.
        if let node, let key = firstNonScalarKey(node) {
            throw ModelConfigError(file: file, problems: ["line \(key.mark?.line ?? 1), column \(key.mark?.column ?? 1): mapping keys must be plain strings"])
        }
        root = node?.any
        guard let top = root as? [String: Any] else {
            throw ModelConfigError(file: file, problems: ["expected a mapping with name, modality, preprocessing and model"])
        }
        func string(_ v: Any?) -> String? {
            switch v {
            case let s as String: return s
            case let n as Int: return String(n)
            case let d as Double: return String(d)
            default: return nil
            }
        }
        let name = string(top["name"]) ?? ""
        if name.isEmpty { problems.append("'name' is missing") }
        var modality = Modality.image
        if let m = string(top["modality"]), let value = Modality(rawValue: m.lowercased()) { modality = value } else {
            problems.append("'modality' must be image, video or audio (found \(string(top["modality"]).map { "'\($0)'" } ?? "nothing"))")
        }
        var dtype = "float32"
        if let d = top["dtype"] {
            if let s = string(d), let canonical = dtypes[s.lowercased()] { dtype = canonical } else {
                problems.append("'dtype' must be one of float32, fp32, float16, fp16, bfloat16, bf16 (found \(string(d) ?? "\(d)"))")
            }
        }
        let pre = top["preprocessing"] as? [String: Any] ?? [:]
        if top["preprocessing"] != nil && top["preprocessing"] as? [String: Any] == nil && !(top["preprocessing"] is NSNull) {
            problems.append("'preprocessing' must be a mapping")
        }
        var resize: [Int]?
        if let r = pre["resize"] {
            if let list = r as? [Any], list.count == 2, let h = list[0] as? Int, let w = list[1] as? Int, (1...4096).contains(h), (1...4096).contains(w) {
                resize = [h, w]
            } else {
                problems.append("'preprocessing.resize' must be [height, width] with sides from 1 to 4096")
            }
        }
        var numFrames: Int?
        if let n = pre["num_frames"] ?? pre["max_frames"] {
            if let v = n as? Int, v >= 1 { numFrames = min(v, maxFrames) } else { problems.append("'preprocessing.num_frames' must be a positive whole number") }
        }
        var frameRate: Double?
        if let r = pre["frame_rate"] {
            if let v = (r as? Double) ?? (r as? Int).map(Double.init), v > 0 { frameRate = v } else { problems.append("'preprocessing.frame_rate' must be a positive number") }
        }
        let sampleRate = pre["sample_rate"] as? Int
        let duration = (pre["duration_seconds"] as? Double) ?? (pre["duration_seconds"] as? Int).map(Double.init)
        let model = top["model"] as? [String: Any] ?? [:]
        var numClasses = 2
        if let n = model["num_classes"] {
            if let v = n as? Int, (1...1000).contains(v) { numClasses = v } else { problems.append("'model.num_classes' must be a whole number from 1 to 1000") }
        }
        var weights = "model.safetensors"
        if let w = model["weights_file"] {
            if let s = w as? String, !s.isEmpty, !s.hasPrefix("/"), !s.split(separator: "/").contains("..") { weights = s } else {
                problems.append("'model.weights_file' must be a relative path inside the package (found \(w))")
            }
        }
        var arguments: [String: String] = [:]
        for (key, value) in model where !["num_classes", "weights_file"].contains(key) {
            if JSONSerialization.isValidJSONObject([value]), let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]),
               let text = String(data: data, encoding: .utf8) {
                arguments[key] = String(text.dropFirst().dropLast())
            } else {
                problems.append("'model.\(key)' is not a plain value (number, string, list or mapping)")
            }
        }
        if !problems.isEmpty { throw ModelConfigError(file: file, problems: problems) }
        return ModelConfig(name: name, version: string(top["version"]), modality: modality, dtype: dtype, resize: resize,
                           numFrames: numFrames, frameRate: frameRate, sampleRate: sampleRate, durationSeconds: duration,
                           numClasses: numClasses, weightsFile: weights, modelArguments: arguments)
    }
}

/// The first mapping key anywhere in the tree that is not a scalar.
func firstNonScalarKey(_ node: Node) -> Node? {
    switch node {
    case .scalar, .alias: return nil
    case let .sequence(items): return items.lazy.compactMap(firstNonScalarKey).first
    case let .mapping(map):
        for (key, value) in map {
            if key.scalar == nil { return key }
            if let bad = firstNonScalarKey(value) { return bad }
        }
        return nil
    }
}

public struct ModelConfigError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var problems: [String]
    public var description: String {
        "\(file): invalid model_config.yaml: " + problems.joined(separator: "; ")
    }
}
