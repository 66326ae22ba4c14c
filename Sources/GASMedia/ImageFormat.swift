/// Image container formats recognised by their magic bytes. Why sniff instead of trusting
/// file extensions: datasets and generator miners mislabel files (a `.jpg` that is a PNG).
public enum ImageFormat: String, Sendable, CaseIterable {
    case png, jpeg, gif, bmp, webp, tiff

    /// The format whose signature starts `bytes`, or nil.
    public static func sniff(_ bytes: some Collection<UInt8>) -> ImageFormat? {
        let head = Array(bytes.prefix(12))
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + magic.count && Array(head[offset..<offset + magic.count]) == magic
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if starts(Array("BM".utf8)) { return .bmp }
        return nil
    }

    /// Whether `ImageCodec.decode` turns this format into pixels.
    public var isDecodable: Bool { self == .png || self == .jpeg }
}
