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
        var out = OutputBytes(capacity: chunkBytes + 4096)
        defer { out.release() }
        func flush(force: Bool) throws {
            if force || out.count >= chunkBytes {
                try sink(out.bytes)
                out.removeAll()
            }
        }
        out.reserve(16)
        out.put("{\"detectors\":")
        out.append(contentsOf: try encoder.encode(plan.detectors))
        out.reserve(16)
        out.put(",\"samples\":[")
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if onAllCores && cores > 1 && plan.samples.count > 2 * blockSamples {
            try flush(force: true)
            let samples = plan.samples
            let blocks = (samples.count + blockSamples - 1) / blockSamples
            // Two windows of blocks: the next is written on the other threads while this one hands
            // the last to `sink` (hashing and writing it took a core while the others waited).
            let windows = [SampleWindow(blocks: 2 * cores), SampleWindow(blocks: 2 * cores)]
            defer { for w in windows { w.release() } }
            var first = 0, current = 0
            var count = windows[0].write(samples, fromBlock: 0, blocks: blocks)
            while count > 0 {
                let next = first + count, other = windows[1 - current]
                let writing = next < blocks ? BackgroundValue { other.write(samples, fromBlock: next, blocks: blocks) } : nil
                do {
                    for k in 0..<count { try sink(windows[current].bytes(k)) }
                } catch {
                    _ = writing?.take()  // its buffers are released only once it is done with them
                    throw error
                }
                first = next
                count = writing?.take() ?? 0
                current = 1 - current
            }
        } else {
            for i in plan.samples.indices {  // by index: the sample is read in place, not copied
                if i > 0 { out.reserve(1); out.put(UInt8(ascii: ",")) }
                appendSample(plan.samples[i], to: &out)
                try flush(force: false)
            }
        }
        out.reserve(1)
        out.put(UInt8(ascii: "]"))
        guard rest.first == UInt8(ascii: "{"), rest.count >= 2 else {
            throw RunnerError.outputs(path: "manifest", reason: "unexpected plan encoding")
        }
        if rest.count > 2 { out.reserve(1); out.put(UInt8(ascii: ",")) }
        out.append(contentsOf: rest.dropFirst())
        try flush(force: true)
    }

    /// Buffers for a window of consecutive blocks of the sample list, each block written on a
    /// thread of its own. A window is filled by one thread and read by another, never both at once.
    final class SampleWindow: @unchecked Sendable {
        private var buffers: [OutputBytes]

        init(blocks: Int) { buffers = (0..<blocks).map { _ in OutputBytes(capacity: 512 * blockSamples) } }

        func release() { for b in buffers { b.release() } }

        /// Block `k`'s bytes, valid until the window is written again.
        func bytes(_ k: Int) -> UnsafeRawBufferPointer { buffers[k].bytes }

        /// Writes blocks `fromBlock...` (as many as fit, up to `blocks` in all) and answers how many.
        func write(_ samples: [PlannedSample], fromBlock firstBlock: Int, blocks: Int) -> Int {
            let n = min(buffers.count, blocks - firstBlock)
            buffers.withUnsafeMutableBufferPointer { buffers in
                nonisolated(unsafe) let buffers = buffers
                DispatchQueue.concurrentPerform(iterations: n) { k in
                    let range = ((firstBlock + k) * blockSamples)..<min(samples.count, (firstBlock + k + 1) * blockSamples)
                    var block = buffers[k]
                    block.removeAll()
                    for i in range {
                        if i > 0 { block.reserve(1); block.put(UInt8(ascii: ",")) }
                        appendSample(samples[i], to: &block)
                    }
                    buffers[k] = block
                }
            }
            return n
        }
    }

    /// One sample with the keys sorted, optional keys left out when nil (as synthesized Codable does).
    /// Room for the longest it can be is made first, then every byte is put without a check: a
    /// million samples made about 40 appends each, each with its own capacity check.
    static func appendSample(_ s: PlannedSample, to out: inout OutputBytes) {
        let dataset = s.dataset, format = s.format, family = s.generatorFamily, reason = s.skipReason
        let kind = s.sourceKind.rawValue, media = s.mediaType.rawValue, modality = s.modality.rawValue
        // Keys, punctuation and numbers take under 300 bytes; a string's byte can become 6 (\u00xx).
        let packed = s.utf8Counts
        let texts = dataset.utf8.count + format.utf8.count + (family?.utf8.count ?? 0) + (reason?.utf8.count ?? 0)
            + kind.utf8.count + media.utf8.count + modality.utf8.count + s.sampleURI.head.utf8.count + s.sampleURI.tail.utf8.count
            + packed.id + packed.sha256 + packed.mediaPath
        out.reserve(300 + 6 * texts)
        out.put("{\"bytes\":"); out.putInteger(Int64(s.byteCount))
        out.put(",\"dataset\":"); out.putString(dataset)
        out.put(",\"format\":"); out.putString(format)
        if let family { out.put(",\"generator_family\":"); out.putString(family) }
        s.withTextFieldsUTF8 { id, sha256, mediaPath in
            out.put(",\"id\":"); out.putString(utf8: id)
            out.put(",\"label\":"); out.putInteger(Int64(s.label))
            out.put(",\"media_path\":"); out.putString(utf8: mediaPath)
            out.put(",\"media_type\":"); out.putString(media)
            out.put(",\"modality\":"); out.putString(modality)
            out.put(",\"seed\":"); out.putDecimal(s.seed)
            out.put(",\"sha256\":"); out.putString(utf8: sha256)
        }
        if let reason { out.put(",\"skip_reason\":"); out.putString(reason) }
        out.put(",\"source_kind\":"); out.putString(kind)
        out.put(",\"uri\":")
        out.put(UInt8(ascii: "\""))
        s.sampleURI.forEachPiece { out.putEscaped($0) }  // escaping works byte by byte, so the pieces escape as the whole
        out.put(UInt8(ascii: "\""))
        out.put(UInt8(ascii: "}"))
    }
}

/// JSON strings and numbers as JSONEncoder writes them, into room made by `reserve` first.
extension OutputBytes {
    mutating func putInteger(_ v: Int64) {
        if v < 0 { put(UInt8(ascii: "-")) }
        putDecimal(v.magnitude)
    }

    mutating func putString(_ string: String) {
        var s = string
        s.withUTF8 { putString(utf8: $0) }
    }

    mutating func putString(utf8 bytes: UnsafeBufferPointer<UInt8>) {
        put(UInt8(ascii: "\""))
        putEscaped(bytes)
        put(UInt8(ascii: "\""))
    }

    private static let hexDigits: StaticString = "0123456789abcdef"

    /// A JSON string's content as JSONEncoder writes it: `"` and `\` escaped, \b \f \n \r \t short,
    /// other control characters as \u00xx, everything else (slashes and non-ASCII included) as is.
    /// Eight bytes are checked at a time; a word with none to escape is copied as it is.
    mutating func putEscaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        let n = bytes.count
        var plainStart = 0, i = 0
        func escape(_ at: Int) {
            let b = base[at]
            guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { return }
            put(raw: UnsafeBufferPointer(start: base + plainStart, count: at - plainStart))
            plainStart = at + 1
            switch b {
            case UInt8(ascii: "\""): put("\\\"")
            case UInt8(ascii: "\\"): put("\\\\")
            case 0x08: put("\\b")
            case 0x0C: put("\\f")
            case 0x0A: put("\\n")
            case 0x0D: put("\\r")
            case 0x09: put("\\t")
            default:
                put("\\u00")
                put(Self.hexDigits.utf8Start[Int(b >> 4)])
                put(Self.hexDigits.utf8Start[Int(b & 15)])
            }
        }
        while i + 8 <= n {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
            if Self.mayNeedEscape(word) {
                for at in i..<i + 8 { escape(at) }
            }
            i += 8
        }
        while i < n {
            if base[i] < 0x20 || base[i] == UInt8(ascii: "\"") || base[i] == UInt8(ascii: "\\") { escape(i) }
            i += 1
        }
        put(raw: UnsafeBufferPointer(start: base + plainStart, count: n - plainStart))
    }

    /// Whether any byte of `word` is below 0x20, `"` or `\` (exact for "any": a borrow can only
    /// spread from a byte that is one of them).
    @inline(__always) static func mayNeedEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ v: UInt64) -> UInt64 { (v &- ones) & ~v & highs }
        let below = (word &- ones &* 0x20) & ~word & highs
        return (below | hasZeroByte(word ^ (ones &* 0x22)) | hasZeroByte(word ^ (ones &* 0x5C))) != 0
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
