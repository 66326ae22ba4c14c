/// Motion-JPEG in an AVI (RIFF) container: the video format gascli writes for its synthetic
/// videos. Why this one: it needs nothing but a JPEG encoder (no ffmpeg, no codec licences), every
/// frame is a plain JPEG, and OpenCV, ffmpeg/PyAV, decord and VLC all read it; the package host
/// reads it with Pillow alone.
public enum MJPEGAVI {
    /// AVI bytes holding `frames` (JPEG files) of `width`×`height` at `fps` frames per second.
    /// Deterministic: no timestamps or tool names are written.
    public static func encode(frames: [[UInt8]], width: Int, height: Int, fps: Int) -> [UInt8] {
        var movi: [UInt8] = Array("movi".utf8)
        var index: [UInt8] = []
        for frame in frames {
            let offset = movi.count
            movi += Array("00dc".utf8)
            movi += le32(frame.count)
            movi += frame
            if frame.count % 2 == 1 { movi.append(0) }
            index += Array("00dc".utf8) + le32(0x10) + le32(offset) + le32(frame.count)
        }
        let largest = frames.map(\.count).max() ?? 0
        var avih: [UInt8] = []
        avih += le32(1_000_000 / max(1, fps)) + le32(largest * max(1, fps)) + le32(0) + le32(0x10)
        avih += le32(frames.count) + le32(0) + le32(1) + le32(largest) + le32(width) + le32(height)
        avih += [UInt8](repeating: 0, count: 16)
        var strh: [UInt8] = Array("vids".utf8) + Array("MJPG".utf8) + le32(0) + le32(0) + le32(0)
        strh += le32(1) + le32(max(1, fps)) + le32(0) + le32(frames.count) + le32(largest) + le32(0xFFFF_FFFF) + le32(0)
        strh += le16(0) + le16(0) + le16(width) + le16(height)
        var strf: [UInt8] = le32(40) + le32(width) + le32(height) + le16(1) + le16(24) + Array("MJPG".utf8)
        strf += le32(width * height * 3) + le32(0) + le32(0) + le32(0) + le32(0)
        let strl = list("strl", chunk("strh", strh) + chunk("strf", strf))
        let hdrl = list("hdrl", chunk("avih", avih) + strl)
        let body = Array("AVI ".utf8) + hdrl + Array("LIST".utf8) + le32(movi.count) + movi + chunk("idx1", index)
        return Array("RIFF".utf8) + le32(body.count) + body
    }

    /// The JPEG frames and frame rate of an MJPEG AVI; throws for anything else.
    public static func decodeFrames(_ bytes: [UInt8]) throws(MediaError) -> (fps: Double, frames: [[UInt8]]) {
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("AVI ".utf8) else {
            throw .unsupportedFormat("video other than Motion-JPEG AVI")
        }
        var fps = 30.0
        var frames: [[UInt8]] = []
        func u32(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3]) << 24 }
        func walk(_ start: Int, _ end: Int, depth: Int) throws(MediaError) {
            guard depth < 8 else { throw .corruptImage(reason: "AVI lists nested too deeply") }
            var position = start
            while position + 8 <= end {
                let id = String(decoding: bytes[position..<(position + 4)], as: UTF8.self)
                let size = u32(position + 4)
                let body = position + 8
                guard size >= 0, body + size <= bytes.count else { throw .truncatedImage(reason: "AVI chunk '\(id)' runs past the end of the file") }
                if id == "LIST" {
                    try walk(body + 4, body + size, depth: depth + 1)
                } else if id == "avih", size >= 4 {
                    let micro = u32(body)
                    if micro > 0 { fps = 1_000_000 / Double(micro) }
                } else if id.hasSuffix("dc") || id.hasSuffix("db") {
                    frames.append(Array(bytes[body..<(body + size)]))
                }
                position = body + size + (size & 1)
            }
        }
        try walk(12, bytes.count, depth: 0)
        guard !frames.isEmpty else { throw .corruptImage(reason: "the AVI holds no video frames") }
        return (fps, frames)
    }

    static func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
    static func le16(_ v: Int) -> [UInt8] { (0..<2).map { UInt8((v >> (8 * $0)) & 0xFF) } }
    static func chunk(_ id: String, _ body: [UInt8]) -> [UInt8] {
        Array(id.utf8) + le32(body.count) + body + (body.count % 2 == 1 ? [0] : [])
    }
    static func list(_ type: String, _ body: [UInt8]) -> [UInt8] {
        Array("LIST".utf8) + le32(body.count + 4) + Array(type.utf8) + body
    }
}
