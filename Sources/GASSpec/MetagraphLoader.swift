import Foundation
import GASCore
import Yams

/// A subnet's registered neurons, as read from a file or a command's output.
public struct Metagraph: Sendable, Equatable {
    public var neurons: [Neuron]
    public var netuid: Int?
    public var block: Int64?
    public init(neurons: [Neuron], netuid: Int? = nil, block: Int64? = nil) {
        self.neurons = neurons
        self.netuid = netuid
        self.block = block
    }

    public func uid(of hotkey: String) -> Int? { neurons.first { $0.hotkey == hotkey }?.uid }
    public func hotkey(of uid: Int) -> String? { neurons.first { $0.uid == uid }?.hotkey }
}

/// Reads metagraphs in two shapes (YAML or JSON):
///
/// ```yaml
/// neurons:
///   - {uid: 0, hotkey: 5Hj..., validator: false}
/// ```
/// or bittensor's column form, which `print(json.dumps({...}))` of a `bt.metagraph` gives:
/// `{"uids": [0, 1], "hotkeys": ["5Hj...", "5F..."], "validator_permit": [false, true]}`.
/// Uids must be exactly 0..n-1 (the chain's numbering), with no uid or hotkey listed twice.
public enum MetagraphLoader {
    public static func load(path: String) throws -> Metagraph {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw SpecErrors([SpecDiagnostic(file: path, line: 1, column: 1, field: "", message: "the metagraph file does not exist or is not UTF-8 text")])
        }
        return try parse(text: text, file: path)
    }

    public static func parse(text: String, file: String) throws -> Metagraph {
        let r = YAMLReader(file: file)
        guard let root = r.compose(text) else { throw SpecErrors(r.diagnostics) }
        var neurons: [(Neuron, Node)] = []
        var netuid: Int?
        var block: Int64?
        switch root {
        case .sequence:
            neurons = readNeuronList(root, "", r)
        case let .mapping(map):
            if map["neurons"] != nil {
                guard let top = r.mapping(root, "", allowed: ["neurons", "netuid", "block"]) else { break }
                if let n = top["neurons"] { neurons = readNeuronList(n, "neurons", r) }
                netuid = top["netuid"].flatMap { r.int($0, "netuid", min: 0) }
                block = top["block"].flatMap { r.int($0, "block", min: 0) }.map(Int64.init)
            } else {
                guard let top = r.mapping(root, "", allowed: ["uids", "hotkeys", "validator_permit", "netuid", "block"]) else { break }
                netuid = top["netuid"].flatMap { r.int($0, "netuid", min: 0) }
                block = top["block"].flatMap { r.int($0, "block", min: 0) }.map(Int64.init)
                guard let u = r.require(top, "uids", in: root, "", hint: "or list 'neurons: [{uid, hotkey, validator}]'"),
                      let h = r.require(top, "hotkeys", in: root, ""),
                      let uidNodes = r.sequence(u, "uids", of: "uids"), let hotkeyNodes = r.sequence(h, "hotkeys", of: "hotkeys") else { break }
                if uidNodes.count != hotkeyNodes.count {
                    r.error(h, "hotkeys", "\(uidNodes.count) uids but \(hotkeyNodes.count) hotkeys; the lists must have the same length")
                    break
                }
                var permits: [Node] = []
                if let p = top["validator_permit"], let list = r.sequence(p, "validator_permit", of: "booleans") {
                    if list.count != uidNodes.count { r.error(p, "validator_permit", "\(list.count) entries for \(uidNodes.count) uids") } else { permits = list }
                }
                for i in uidNodes.indices {
                    guard let uid = r.int(uidNodes[i], "uids[\(i)]", min: 0, max: 65535),
                          let hotkey = r.nonEmptyString(hotkeyNodes[i], "hotkeys[\(i)]") else { continue }
                    let validator = permits.isEmpty ? false : (r.bool(permits[i], "validator_permit[\(i)]") ?? false)
                    neurons.append((Neuron(uid: uid, hotkey: hotkey, validator: validator), uidNodes[i]))
                }
            }
        default:
            r.error(root, "", "expected a mapping with 'neurons' (or 'uids' and 'hotkeys'), found \(r.describe(root))")
        }
        if !r.hasErrors {
            if neurons.isEmpty { r.error(root, "neurons", "the metagraph lists no neurons") }
            var uids: [Int: Int] = [:], hotkeys: [String: Int] = [:]
            for (i, (n, node)) in neurons.enumerated() {
                if let j = uids[n.uid] { r.error(node, "neurons[\(i)].uid", "uid \(n.uid) is listed twice (also at neurons[\(j)])") } else { uids[n.uid] = i }
                if let j = hotkeys[n.hotkey] {
                    r.error(node, "neurons[\(i)].hotkey", "hotkey \(n.hotkey) is listed twice (uids \(neurons[j].0.uid) and \(n.uid)); a hotkey holds one uid")
                } else { hotkeys[n.hotkey] = i }
            }
            if !r.hasErrors {
                let missing = (0..<neurons.count).filter { uids[$0] == nil }
                if !missing.isEmpty {
                    r.error(root, "neurons", "uids must be 0..\(neurons.count - 1) like the chain's; missing: \(missing.prefix(10).map(String.init).joined(separator: ", "))")
                }
            }
        }
        guard !r.hasErrors else { throw SpecErrors(r.diagnostics) }
        return Metagraph(neurons: neurons.map(\.0).sorted { $0.uid < $1.uid }, netuid: netuid, block: block)
    }

    static func readNeuronList(_ node: Node, _ field: String, _ r: YAMLReader) -> [(Neuron, Node)] {
        guard let items = r.sequence(node, field.isEmpty ? "neurons" : field, of: "neurons") else { return [] }
        var result: [(Neuron, Node)] = []
        for (i, item) in items.enumerated() {
            let f = "\(field.isEmpty ? "neurons" : field)[\(i)]"
            guard let m = r.mapping(item, f, allowed: ["uid", "hotkey", "validator", "coldkey", "stake"]) else { continue }
            guard let uid = r.require(m, "uid", in: item, f).flatMap({ r.int($0, "\(f).uid", min: 0, max: 65535) }),
                  let hotkey = r.require(m, "hotkey", in: item, f).flatMap({ r.nonEmptyString($0, "\(f).hotkey") }) else { continue }
            let validator = m["validator"].flatMap { r.bool($0, "\(f).validator") } ?? false
            result.append((Neuron(uid: uid, hotkey: hotkey, validator: validator), item))
        }
        return result
    }
}
