import GASCore

/// Recognises media files by their first bytes, for media that arrive without a trustworthy name
/// (Parquet cells, archive members with odd extensions). Returns the extension gascli stores the
/// bytes under.
public enum MediaFormat {
    public static func sniff(_ bytes: [UInt8]) -> String? {
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + magic.count && Array(bytes[offset..<(offset + magic.count)]) == magic
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "png" }
        if starts([0xFF, 0xD8, 0xFF]) { return "jpg" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "gif" }
        if starts(Array("BM".utf8)) && bytes.count >= 26 { return "bmp" }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return "tiff" }
        if starts(Array("RIFF".utf8)) {
            if starts(Array("WEBP".utf8), at: 8) { return "webp" }
            if starts(Array("WAVE".utf8), at: 8) { return "wav" }
            if starts(Array("AVI ".utf8), at: 8) { return "avi" }
        }
        if starts(Array("ftyp".utf8), at: 4) {
            let brand = bytes.count >= 12 ? String(decoding: bytes[8..<12], as: UTF8.self) : ""
            if brand.hasPrefix("qt") { return "mov" }
            if brand.hasPrefix("M4A") { return "m4a" }
            return "mp4"
        }
        if starts([0x1A, 0x45, 0xDF, 0xA3]) { return "webm" }
        if starts(Array("fLaC".utf8)) { return "flac" }
        if starts(Array("OggS".utf8)) { return "ogg" }
        if starts(Array("ID3".utf8)) || (bytes.count >= 2 && bytes[0] == 0xFF && (bytes[1] & 0xE0) == 0xE0 && (bytes[1] & 0x06) != 0) {
            return "mp3"
        }
        return nil
    }

    /// The modality a stored format belongs to.
    public static func modality(of format: String) -> Modality? {
        for (modality, extensions) in DatasetListing.extensions where extensions.contains(format) { return modality }
        if format == "jpg" || format == "tif" { return .image }
        return nil
    }
}
