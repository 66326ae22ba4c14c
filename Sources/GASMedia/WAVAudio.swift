/// WAV (RIFF/WAVE) audio: parsed natively, because audio samples come from untrusted datasets and
/// generator miners, and the builtin audio baseline needs nothing but PCM.
///
/// Reads PCM 8/16/24/32-bit and IEEE float 32/64-bit, mono or multi-channel (also through
/// WAVE_FORMAT_EXTENSIBLE); channels are averaged to mono. Writes 16-bit PCM mono.
public struct WAVAudio: Sendable, Equatable {
    public var sampleRate: Int
    /// Mono samples in [-1, 1].
    public var samples: [Float]

    public init(sampleRate: Int, samples: [Float]) {
        self.sampleRate = sampleRate
        self.samples = samples
    }

    public var duration: Double { sampleRate > 0 ? Double(samples.count) / Double(sampleRate) : 0 }

    public struct Header: Sendable, Equatable {
        public var formatTag: Int
        public var channels: Int
        public var sampleRate: Int
        public var bitsPerSample: Int
        /// Byte range of the sample data in the file.
        public var data: Range<Int>
        public var frameCount: Int { data.count / max(1, channels * bitsPerSample / 8) }
    }

    /// Largest sample data accepted (1 GiB).
    public static let maxDataBytes = 1 << 30

    public static func parseHeader(_ bytes: [UInt8]) throws(MediaError) -> Header {
        func fail(_ reason: String) -> MediaError { .invalidAudio(reason: reason) }
        func u32(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24 }
        func u16(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 }
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) else {
            throw fail("not a WAV file (no RIFF/WAVE header)")
        }
        var position = 12
        var format: (tag: Int, channels: Int, rate: Int, bits: Int)?
        var data: Range<Int>?
        while position + 8 <= bytes.count {
            let id = String(decoding: bytes[position..<(position + 4)], as: UTF8.self)
            let size = u32(position + 4)
            let body = position + 8
            if id == "fmt " {
                guard size >= 16, body + 16 <= bytes.count else { throw fail("the fmt chunk is truncated") }
                var tag = u16(body)
                if tag == 0xFFFE, size >= 40, body + 26 <= bytes.count { tag = u16(body + 24) }  // extensible: subformat GUID
                format = (tag, u16(body + 2), u32(body + 4), u16(body + 14))
            } else if id == "data" {
                let end = min(bytes.count, body + size)  // streams written without a final size are read to the end
                data = body..<end
                break
            }
            guard size >= 0, body + size <= bytes.count || id == "data" else { throw fail("chunk '\(id)' claims \(size) bytes beyond the file") }
            position = body + size + (size & 1)
        }
        guard let format else { throw fail("no fmt chunk before the sample data") }
        guard let data else { throw fail("no data chunk") }
        guard format.tag == 1 || format.tag == 3 else {
            throw fail("format tag \(format.tag) is not PCM (1) or IEEE float (3); compressed WAV is not supported")
        }
        guard (1...32).contains(format.channels) else { throw fail("\(format.channels) channels") }
        guard (1...768_000).contains(format.rate) else { throw fail("sample rate \(format.rate) Hz") }
        let validBits = format.tag == 1 ? [8, 16, 24, 32] : [32, 64]
        guard validBits.contains(format.bits) else {
            throw fail("\(format.bits)-bit \(format.tag == 1 ? "PCM" : "float") samples are not supported")
        }
        guard data.count <= maxDataBytes else { throw fail("\(data.count) bytes of samples, above the \(maxDataBytes)-byte limit") }
        return Header(formatTag: format.tag, channels: format.channels, sampleRate: format.rate, bitsPerSample: format.bits, data: data)
    }

    public static func decode(_ bytes: [UInt8]) throws(MediaError) -> WAVAudio {
        let h = try parseHeader(bytes)
        let width = h.bitsPerSample / 8
        let frames = h.frameCount
        var out = [Float](repeating: 0, count: frames)
        bytes.withUnsafeBufferPointer { p in
            var i = h.data.lowerBound
            for f in 0..<frames {
                var sum: Float = 0
                for _ in 0..<h.channels {
                    var v: Float
                    switch (h.formatTag, width) {
                    case (1, 1): v = (Float(p[i]) - 128) / 128
                    case (1, 2): v = Float(Int16(bitPattern: UInt16(p[i]) | UInt16(p[i + 1]) << 8)) / 32768
                    case (1, 3):
                        let raw = Int32(bitPattern: UInt32(p[i]) << 8 | UInt32(p[i + 1]) << 16 | UInt32(p[i + 2]) << 24)
                        v = Float(raw >> 8) / 8_388_608
                    case (1, 4):
                        let raw = Int32(bitPattern: UInt32(p[i]) | UInt32(p[i + 1]) << 8 | UInt32(p[i + 2]) << 16 | UInt32(p[i + 3]) << 24)
                        v = Float(Double(raw) / 2_147_483_648)
                    case (3, 4):
                        v = Float(bitPattern: UInt32(p[i]) | UInt32(p[i + 1]) << 8 | UInt32(p[i + 2]) << 16 | UInt32(p[i + 3]) << 24)
                    default:
                        var bits: UInt64 = 0
                        for k in 0..<8 { bits |= UInt64(p[i + k]) << (8 * UInt64(k)) }
                        v = Float(Double(bitPattern: bits))
                    }
                    if !v.isFinite { v = 0 }
                    sum += v
                    i += width
                }
                out[f] = sum / Float(h.channels)
            }
        }
        return WAVAudio(sampleRate: h.sampleRate, samples: out)
    }

    /// 16-bit PCM mono WAV bytes (samples clipped to [-1, 1], rounded to nearest); deterministic.
    public static func encodePCM16(_ audio: WAVAudio) -> [UInt8] {
        var out: [UInt8] = []
        let dataBytes = audio.samples.count * 2
        out.reserveCapacity(44 + dataBytes)
        func put32(_ v: Int) { for k in 0..<4 { out.append(UInt8((v >> (8 * k)) & 0xFF)) } }
        func put16(_ v: Int) { for k in 0..<2 { out.append(UInt8((v >> (8 * k)) & 0xFF)) } }
        out += Array("RIFF".utf8); put32(36 + dataBytes); out += Array("WAVE".utf8)
        out += Array("fmt ".utf8); put32(16); put16(1); put16(1); put32(audio.sampleRate); put32(audio.sampleRate * 2); put16(2); put16(16)
        out += Array("data".utf8); put32(dataBytes)
        for s in audio.samples {
            let clipped = max(-1, min(1, s.isFinite ? s : 0))
            let v = Int16((clipped * 32767).rounded(.toNearestOrEven))
            put16(Int(UInt16(bitPattern: v)))
        }
        return out
    }
}
