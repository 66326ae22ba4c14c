import Foundation

/// A parsed safetensors file (the weight format GAS model packages use).
///
/// Why native: the builtin baseline reads its weights without Python, and miners' packages are
/// untrusted, so every length, offset, dtype and shape is checked before any byte is used.
public struct Safetensors: Sendable {
    public struct Tensor: Sendable, Equatable {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var range: Range<Int>
    }

    public static let dtypeSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
        "U16": 2, "U32": 4, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1,
    ]
    public static let maxHeaderBytes = 100 << 20

    public var tensors: [String: Tensor]
    public var metadata: [String: String]
    let data: [UInt8]
    let dataStart: Int

    public init(path: String) throws(SafetensorsError) {
        guard let contents = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path) }
        try self.init(bytes: [UInt8](contents), file: path)
    }

    public init(bytes: [UInt8], file: String = "<memory>") throws(SafetensorsError) {
        guard bytes.count >= 8 else { throw .invalid(file: file, reason: "file is \(bytes.count) bytes, shorter than the 8-byte header length") }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw .invalid(file: file, reason: "header claims \(headerLength) bytes, above the \(Self.maxHeaderBytes)-byte limit")
        }
        guard 8 + Int(headerLength) <= bytes.count else {
            throw .invalid(file: file, reason: "header claims \(headerLength) bytes but the file has \(bytes.count - 8) after the length")
        }
        let headerBytes = Data(bytes[8..<(8 + Int(headerLength))])
        guard let object = try? JSONSerialization.jsonObject(with: headerBytes), let header = object as? [String: Any] else {
            throw .invalid(file: file, reason: "header is not a JSON object")
        }
        let start = 8 + Int(headerLength)
        let dataLength = bytes.count - start
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw .invalid(file: file, reason: "__metadata__ must be an object of strings") }
                for (k, v) in m {
                    guard let s = v as? String else { throw .invalid(file: file, reason: "__metadata__.\(k) must be a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shapeValues = info["shape"] as? [Any], let offsets = info["data_offsets"] as? [Any], offsets.count == 2 else {
                throw .invalid(file: file, reason: "tensor '\(name)' needs dtype, shape and data_offsets [begin, end]")
            }
            guard let size = Self.dtypeSizes[dtype] else {
                throw .invalid(file: file, reason: "tensor '\(name)' has unknown dtype '\(dtype)'")
            }
            var shape: [Int] = []
            var elements = 1
            for dim in shapeValues {
                guard let n = (dim as? NSNumber)?.intValue, n >= 0, n < (1 << 40) else {
                    throw .invalid(file: file, reason: "tensor '\(name)' has an invalid dimension \(dim)")
                }
                shape.append(n)
                let (product, overflow) = elements.multipliedReportingOverflow(by: n)
                guard !overflow, product <= dataLength else {
                    throw .invalid(file: file, reason: "tensor '\(name)' shape \(shapeValues) is larger than the file")
                }
                elements = product
            }
            guard let begin = (offsets[0] as? NSNumber)?.intValue, let end = (offsets[1] as? NSNumber)?.intValue,
                  begin >= 0, end >= begin, end <= dataLength else {
                throw .invalid(file: file, reason: "tensor '\(name)' data_offsets \(offsets) fall outside the \(dataLength) data bytes")
            }
            guard end - begin == elements * size else {
                throw .invalid(file: file, reason: "tensor '\(name)' has \(end - begin) bytes but \(dtype)\(shape) needs \(elements * size)")
            }
            tensors[name] = Tensor(name: name, dtype: dtype, shape: shape, range: begin..<end)
        }
        let ranges = tensors.values.map(\.range).filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound }
        for (a, b) in zip(ranges, ranges.dropFirst()) where a.upperBound > b.lowerBound {
            throw .invalid(file: file, reason: "tensors overlap in the data section")
        }
        self.tensors = tensors
        self.metadata = metadata
        self.data = bytes
        self.dataStart = start
    }

    /// Size of the data section (bytes after the header).
    public var dataByteCount: Int { data.count - dataStart }

    /// Number of values over all tensors.
    public var parameterCount: Int { tensors.values.reduce(0) { $0 + $1.shape.reduce(1, *) } }

    /// The stricter rules of the safetensors format itself, for untrusted model packages: the
    /// header is a JSON object starting with `{`, and the tensors tile the data section exactly,
    /// from byte 0 with no gap, overlap or trailing bytes (a header that lies about sizes fails).
    public func checkLayout(file: String) throws(SafetensorsError) {
        guard dataStart > 8, data[8] == UInt8(ascii: "{") else {
            throw .invalid(file: file, reason: "the header does not start with '{'")
        }
        var position = 0
        for t in tensors.values.sorted(by: { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }) {
            guard t.range.lowerBound == position else {
                throw .invalid(file: file, reason: t.range.lowerBound > position
                    ? "bytes \(position)..<\(t.range.lowerBound) of the data section belong to no tensor (before '\(t.name)')"
                    : "tensor '\(t.name)' overlaps the previous tensor")
            }
            position = t.range.upperBound
        }
        guard position == dataByteCount else {
            throw .invalid(file: file, reason: "the tensors cover \(position) bytes but the data section has \(dataByteCount)")
        }
    }

    /// A tensor's values as doubles (F32 and F64 only; the baseline needs nothing else).
    public func doubles(_ name: String) throws(SafetensorsError) -> [Double] {
        guard let t = tensors[name] else { throw .missingTensor(name: name, available: tensors.keys.sorted()) }
        let slice = data[(dataStart + t.range.lowerBound)..<(dataStart + t.range.upperBound)]
        switch t.dtype {
        case "F32":
            return stride(from: slice.startIndex, to: slice.endIndex, by: 4).map { i in
                var bits: UInt32 = 0
                for k in 0..<4 { bits |= UInt32(slice[i + k]) << (8 * UInt32(k)) }
                return Double(Float(bitPattern: bits))
            }
        case "F64":
            return stride(from: slice.startIndex, to: slice.endIndex, by: 8).map { i in
                var bits: UInt64 = 0
                for k in 0..<8 { bits |= UInt64(slice[i + k]) << (8 * UInt64(k)) }
                return Double(bitPattern: bits)
            }
        default:
            throw .unsupportedDType(name: name, dtype: t.dtype)
        }
    }

    /// Serialises F32 tensors (sorted by name, so the bytes are deterministic).
    public static func encodeF32(_ tensors: [String: (shape: [Int], values: [Float])], metadata: [String: String] = [:]) -> [UInt8] {
        var header: [String: Any] = [:]
        var body: [UInt8] = []
        for name in tensors.keys.sorted() {
            guard let t = tensors[name] else { continue }
            let begin = body.count
            for v in t.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { body += $0 } }
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [begin, body.count]]
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data("{}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out += $0 }
        return out + [UInt8](json) + body
    }
}

public enum SafetensorsError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String)
    case invalid(file: String, reason: String)
    case missingTensor(name: String, available: [String])
    case unsupportedDType(name: String, dtype: String)

    public var description: String {
        switch self {
        case let .unreadable(path): "cannot read safetensors file \(path): it is missing or not readable"
        case let .invalid(file, reason): "\(file) is not a valid safetensors file: \(reason)"
        case let .missingTensor(name, available): "the weights have no tensor '\(name)' (found: \(available.joined(separator: ", ")))"
        case let .unsupportedDType(name, dtype): "tensor '\(name)' is \(dtype); only F32 and F64 are supported here"
        }
    }
}
