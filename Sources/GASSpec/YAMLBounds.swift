import CYaml
import Foundation

/// Limits on a YAML document's shape, checked on libyaml's event stream before anything is built.
///
/// Why: Yams composes recursively and hashes every mapping key, and `Yams.load` copies aliased
/// nodes out, so a few hundred bytes of nested aliases ("billion laughs") would take exponential
/// time and memory, and deep nesting costs stack. The event stream is flat, so this pass is
/// linear in the text and allocates only per anchor.
public enum YAMLBounds {
    /// Deeper than any spec, catalog or model config needs (they use at most about six levels).
    public static let maxDepth = 64
    /// Nodes after expanding every alias; real files have a few thousand.
    public static let maxExpandedNodes = 1_000_000

    public struct Violation: Error, Sendable, Equatable {
        /// 1-based, like the diagnostics of the YAML readers.
        public var line: Int
        public var column: Int
        public var message: String
    }

    /// Nil when the document is within bounds, or malformed (the parser that follows reports
    /// syntax errors with their own position).
    public static func check(_ text: String, maxDepth: Int = maxDepth, maxExpandedNodes: Int = maxExpandedNodes) -> Violation? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer -> Violation? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            /// Open collections: anchor and the expanded size of their children so far.
            var open: [(anchor: String?, size: Int)] = []
            var anchorSizes: [String: Int] = [:]
            var total = 0
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    // libyaml's own nesting cap (1000) can trip first, while scanning ahead: same message.
                    let problem = parser.problem.map { String(cString: $0) } ?? ""
                    guard problem.contains("nesting level") else { return nil }
                    return Violation(line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1,
                                     message: "nesting deeper than \(maxDepth) levels; flatten the document")
                }
                defer { yaml_event_delete(&event) }
                let mark = event.start_mark
                func violation(_ message: String) -> Violation {
                    Violation(line: Int(mark.line) + 1, column: Int(mark.column) + 1, message: message)
                }
                var finished: (anchor: String?, size: Int)? = nil
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let anchor = event.type == YAML_SEQUENCE_START_EVENT
                        ? string(event.data.sequence_start.anchor) : string(event.data.mapping_start.anchor)
                    open.append((anchor, 1))
                    if open.count > maxDepth {
                        return violation("nesting deeper than \(maxDepth) levels; flatten the document")
                    }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    finished = open.popLast()
                case YAML_SCALAR_EVENT:
                    finished = (string(event.data.scalar.anchor), 1)
                case YAML_ALIAS_EVENT:
                    finished = (nil, string(event.data.alias.anchor).flatMap { anchorSizes[$0] } ?? 1)
                default:
                    continue
                }
                guard let node = finished else { continue }
                if let anchor = node.anchor { anchorSizes[anchor] = node.size }
                if open.isEmpty {
                    total = total.addingReportingOverflow(node.size).overflow ? .max : total + node.size
                } else {
                    let sum = open[open.count - 1].size.addingReportingOverflow(node.size)
                    open[open.count - 1].size = sum.overflow ? .max : sum.partialValue
                }
                if total > maxExpandedNodes || (open.last?.size ?? 0) > maxExpandedNodes {
                    return violation("aliases expand the document to more than \(maxExpandedNodes) nodes (a 'billion laughs' document); use fewer or smaller aliases")
                }
            }
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
    }
}
