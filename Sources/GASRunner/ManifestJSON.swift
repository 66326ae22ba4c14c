import Crypto
import Foundation
import GASCore
import GASSpec

/// The manifest's canonical JSON, streamed: byte for byte what `JSONEncoder` with sorted keys and
/// unescaped slashes writes for the whole plan (`RunPlan.encodedByJSONEncoder`), but the sample
/// list, which is nearly all of a large plan, is written by hand in chunks. A million-sample
/// manifest is hashed and written without ever being one string in memory, at a fraction of
/// JSONEncoder's time.
enum ManifestJSON {
    /// Size of the chunks handed to the sink.
    static let chunkBytes = 1 << 20

    /// The plan's fields other than detectors and samples, in JSONEncoder's form.
    private struct Rest: Encodable {
        var schemaVersion: Int
        var toolVersion: String
        var spec: RoundSpec
        var skippedDatasets: [SkippedDataset]?
        enum CodingKeys: String, CodingKey {
            case spec
            case skippedDatasets = "skipped_datasets"
            case schemaVersion = "schema_version", toolVersion = "tool_version"
        }
    }

    /// Samples per block when the sample list is written on all cores.
    static let blockSamples = 4096

    /// Calls `sink` with consecutive chunks of the canonical JSON. `onAllCores`: the samples are
    /// written a window of blocks at a time, the blocks side by side (the same bytes; `sink` still
    /// gets them in order, on this thread) — for the hash, which nothing else runs beside.
    static func write(_ plan: RunPlan, onAllCores: Bool = false, to sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Top-level keys in sorted order: detectors, samples, schema_version, skipped_datasets, spec, tool_version.
        let rest = try encoder.encode(Rest(schemaVersion: plan.schemaVersion, toolVersion: plan.toolVersion, spec: plan.spec,
                                           skippedDatasets: plan.skippedDatasets))
        var out = [UInt8]()
        out.reserveCapacity(chunkBytes + 4096)
        func flush(force: Bool) throws {
            if force || out.count >= chunkBytes {
                try out.withUnsafeBytes(sink)
                out.removeAll(keepingCapacity: true)
            }
        }
        out.append(contentsOf: "{\"detectors\":".utf8)
        out.append(contentsOf: try encoder.encode(plan.detectors))
        out.append(contentsOf: ",\"samples\":[".utf8)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if onAllCores && cores > 1 && plan.samples.count > 2 * blockSamples {
            try flush(force: true)
            let samples = plan.samples
            let blocks = (samples.count + blockSamples - 1) / blockSamples
            let window = 2 * cores
            var blocksOut = [[UInt8]](repeating: [], count: window)
            var first = 0
            while first < blocks {
                let n = min(window, blocks - first)
                let firstBlock = first
                blocksOut.withUnsafeMutableBufferPointer { buffers in
                    nonisolated(unsafe) let buffers = buffers
                    DispatchQueue.concurrentPerform(iterations: n) { k in
                        let range = ((firstBlock + k) * blockSamples)..<min(samples.count, (firstBlock + k + 1) * blockSamples)
                        var block = buffers[k]
                        block.removeAll(keepingCapacity: true)
                        for i in range {
                            if i > 0 { block.append(UInt8(ascii: ",")) }
                            appendSample(samples[i], to: &block)
                        }
                        buffers[k] = block
                    }
                }
                for k in 0..<n { try blocksOut[k].withUnsafeBytes(sink) }
                first += n
            }
        } else {
            for i in plan.samples.indices {  // by index: the sample is read in place, not copied
                if i > 0 { out.append(UInt8(ascii: ",")) }
                appendSample(plan.samples[i], to: &out)
                try flush(force: false)
            }
        }
        out.append(UInt8(ascii: "]"))
        guard rest.first == UInt8(ascii: "{"), rest.count >= 2 else {
            throw RunnerError.outputs(path: "manifest", reason: "unexpected plan encoding")
        }
        if rest.count > 2 { out.append(UInt8(ascii: ",")) }
        out.append(contentsOf: rest.dropFirst())
        try flush(force: true)
    }

    /// One sample with the keys sorted, optional keys left out when nil (as synthesized Codable does).
    static func appendSample(_ s: PlannedSample, to out: inout [UInt8]) {
        func key(_ k: StaticString) {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
            out.append(contentsOf: "\":".utf8)
        }
        out.append(UInt8(ascii: "{"))
        key("bytes"); appendInteger(Int64(s.byteCount), to: &out)
        out.append(UInt8(ascii: ",")); key("dataset"); appendString(s.dataset, to: &out)
        out.append(UInt8(ascii: ",")); key("format"); appendString(s.format, to: &out)
        if let g = s.generatorFamily { out.append(UInt8(ascii: ",")); key("generator_family"); appendString(g, to: &out) }
        out.append(UInt8(ascii: ",")); key("id"); s.withIDUTF8 { appendString(utf8: $0, to: &out) }
        out.append(UInt8(ascii: ",")); key("label"); appendInteger(Int64(s.label), to: &out)
        out.append(UInt8(ascii: ",")); key("media_path"); s.withMediaPathUTF8 { appendString(utf8: $0, to: &out) }
        out.append(UInt8(ascii: ",")); key("media_type"); appendString(s.mediaType.rawValue, to: &out)
        out.append(UInt8(ascii: ",")); key("modality"); appendString(s.modality.rawValue, to: &out)
        out.append(UInt8(ascii: ",")); key("seed"); appendUnsigned(s.seed, to: &out)
        out.append(UInt8(ascii: ",")); key("sha256"); s.withSHA256UTF8 { appendString(utf8: $0, to: &out) }
        if let r = s.skipReason { out.append(UInt8(ascii: ",")); key("skip_reason"); appendString(r, to: &out) }
        out.append(UInt8(ascii: ",")); key("source_kind"); appendString(s.sourceKind.rawValue, to: &out)
        out.append(UInt8(ascii: ",")); key("uri"); appendString(s.sampleURI, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    static func appendInteger(_ v: Int64, to out: inout [UInt8]) {
        if v < 0 {
            out.append(UInt8(ascii: "-"))
            appendUnsigned(v.magnitude, to: &out)
        } else {
            appendUnsigned(UInt64(v), to: &out)
        }
    }

    static func appendUnsigned(_ v: UInt64, to out: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var x = v
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[19 - count] = UInt8(ascii: "0") + UInt8(x % 10)
                x /= 10
                count += 1
            } while x > 0
            out.append(contentsOf: d[(20 - count)...])
        }
    }

    static let hexDigits = Array("0123456789abcdef".utf8)

    /// A JSON string as JSONEncoder writes it: `"` and `\` escaped, \b \f \n \r \t short, other
    /// control characters as \u00xx, everything else (slashes and non-ASCII included) as is.
    static func appendString(_ string: String, to out: inout [UInt8]) {
        var s = string
        s.withUTF8 { appendString(utf8: $0, to: &out) }
    }

    /// A split URI as one JSON string (escaping works byte by byte, so the pieces escape as the whole).
    static func appendString(utf8 bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendEscaped(bytes, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    static func appendString(_ uri: SampleURI, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        uri.forEachPiece { appendEscaped($0, to: &out) }
        out.append(UInt8(ascii: "\""))
    }

    static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var plainStart = 0
        for (i, b) in bytes.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plainStart..<i]))
            plainStart = i + 1
            switch b {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case 0x08: out.append(contentsOf: "\\b".utf8)
            case 0x0C: out.append(contentsOf: "\\f".utf8)
            case 0x0A: out.append(contentsOf: "\\n".utf8)
            case 0x0D: out.append(contentsOf: "\\r".utf8)
            case 0x09: out.append(contentsOf: "\\t".utf8)
            default:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigits[Int(b >> 4)])
                out.append(hexDigits[Int(b & 15)])
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plainStart...]))
    }
}

extension RunPlan {
    /// What JSONEncoder writes for the whole plan (sorted keys, slashes unescaped): the
    /// definition `canonicalJSON()` must equal byte for byte (tests check it).
    public func encodedByJSONEncoder() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Writes the canonical JSON to `path` (beside it, then renamed into place) and returns its sha256.
    public func writeCanonicalJSON(to path: String) throws -> String {
        let partial = path + ".partial"
        let hash = try manifestHash(writingTo: partial, onAllCores: false)
        guard rename(partial, path) == 0 else {
            throw RunnerError.outputs(path: path, reason: "cannot move \(partial) into place: \(String(cString: strerror(errno)))")
        }
        return hash
    }
}
