internal import CImageCodecs

/// PNG and JPEG decoding to `RGBImage`, and deterministic PNG/JPEG encoding.
/// The work happens in C (libpng, libjpeg-turbo) because both report errors with
/// longjmp; here we only check limits, own the memory and map errors.
public enum ImageCodec {
    /// Width, height and format from the header alone; no pixels are decoded.
    public static func dimensions(_ bytes: [UInt8]) throws(MediaError) -> (width: Int, height: Int, format: ImageFormat) {
        guard let format = ImageFormat.sniff(bytes) else { throw .unrecognizedImage }
        if format == .jpeg {
            var header = gas_jpeg_header()
            var error = gas_img_error()
            let status = bytes.withUnsafeBufferPointer { source in
                gas_jpeg_read_header(source.baseAddress, source.count, &header, &error)
            }
            guard status == GAS_IMG_OK else { throw mediaError(error, format: .jpeg) }
            return (Int(header.width), Int(header.height), .jpeg)
        }
        let size = try ImageHeader.dimensions(of: bytes, format: format)
        return (size.width, size.height, format)
    }

    /// Decodes a PNG (any colour type and bit depth, interlaced or not; alpha dropped,
    /// 16-bit scaled to 8) or a JPEG (gray, colour, CMYK) to 8-bit RGB. The header is
    /// checked against `limits` before the pixel buffer is allocated.
    public static func decode(_ bytes: [UInt8], limits: ImageLimits = .default) throws(MediaError) -> RGBImage {
        let (width, height, format) = try dimensions(bytes)
        guard format.isDecodable else { throw .unsupportedFormat(format.rawValue) }
        try limits.check(width: width, height: height)
        guard width <= Int(UInt32.max), height <= Int(UInt32.max) else {
            throw .imageTooLarge(width: width, height: height, limit: Int(UInt32.max))
        }
        let count = width * height * 3  // cannot overflow: checked by limits above

        var error = gas_img_error()
        var status = Int32(GAS_IMG_OK)
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = bytes.withUnsafeBufferPointer { source in
                switch format {
                case .png:
                    gas_png_decode_rgb8(source.baseAddress, source.count, UInt32(width), UInt32(height),
                                        buffer.baseAddress, count, &error)
                default:
                    gas_jpeg_decode_rgb8(source.baseAddress, source.count, UInt32(width), UInt32(height),
                                         buffer.baseAddress, count, &error)
                }
            }
            // UInt8 needs no deinitialization, so a failed decode can leave the array empty.
            initialized = status == GAS_IMG_OK ? count : 0
        }
        guard status == GAS_IMG_OK else { throw mediaError(error, format: format) }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// PNG bytes of `image`: 8-bit RGB, zlib level 6, no time or text chunks, so the
    /// same pixels always give the same bytes (with the same zlib).
    public static func encodePNG(_ image: RGBImage) throws(MediaError) -> [UInt8] {
        try validate(image)
        var output = gas_img_buffer()
        var error = gas_img_error()
        let status = image.pixels.withUnsafeBufferPointer { source in
            gas_png_encode_rgb8(source.baseAddress, UInt32(image.width), UInt32(image.height), &output, &error)
        }
        return try take(&output, status: status, error: error)
    }

    /// Baseline JPEG bytes of `image` at `quality` (1...100): integer DCT, optimized
    /// Huffman tables, 4:2:0 chroma; deterministic for the same pixels and quality.
    public static func encodeJPEG(_ image: RGBImage, quality: Int) throws(MediaError) -> [UInt8] {
        try validate(image)
        return try encodeJPEG(samples: image.pixels, width: image.width, height: image.height,
                              components: 3, quality: quality, progressive: false)
    }

    /// JPEG from raw samples with 1 (gray), 3 (RGB) or 4 (Adobe inverted CMYK) components,
    /// baseline or progressive. Internal: tests use it to make gray, CMYK and progressive fixtures.
    static func encodeJPEG(
        samples: [UInt8], width: Int, height: Int, components: Int, quality: Int, progressive: Bool
    ) throws(MediaError) -> [UInt8] {
        guard (1...100).contains(quality) else {
            throw .invalidImage(reason: "JPEG quality must be between 1 and 100, not \(quality)")
        }
        guard [1, 3, 4].contains(components), width > 0, height > 0,
              width <= 65_500, height <= 65_500, samples.count == width * height * components
        else {
            throw .invalidImage(reason: "a JPEG needs 1 to 65500 pixels per side and width × height × \(components) samples")
        }
        var output = gas_img_buffer()
        var error = gas_img_error()
        let status = samples.withUnsafeBufferPointer { source in
            gas_jpeg_encode(source.baseAddress, UInt32(width), UInt32(height), Int32(components),
                            Int32(quality), progressive ? 1 : 0, &output, &error)
        }
        return try take(&output, status: status, error: error)
    }

    private static func validate(_ image: RGBImage) throws(MediaError) {
        guard let expected = image.expectedByteCount, image.width <= Int(UInt32.max), image.height <= Int(UInt32.max) else {
            throw .invalidImage(reason: "the size \(image.width)×\(image.height) is not positive or too large")
        }
        guard image.pixels.count == expected else {
            throw .invalidImage(reason: "a \(image.width)×\(image.height) RGB image needs \(expected) bytes, not \(image.pixels.count)")
        }
    }

    /// Copies an encoder's malloc'd output into an array and frees it.
    private static func take(_ output: inout gas_img_buffer, status: Int32, error: gas_img_error) throws(MediaError) -> [UInt8] {
        defer { gas_img_buffer_free(&output) }
        guard status == GAS_IMG_OK, let data = output.data else { throw mediaError(error, format: nil) }
        return Array(UnsafeBufferPointer(start: data, count: output.length))
    }

    /// Maps a C status to a case; `format` names the variant for unsupported ones.
    static func mediaError(_ error: gas_img_error, format: ImageFormat?) -> MediaError {
        let message = withUnsafeBytes(of: error.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        switch Int(error.status) {
        case Int(GAS_IMG_TRUNCATED): return .truncatedImage(reason: message)
        case Int(GAS_IMG_UNSUPPORTED): return .unsupportedFormat("\(format?.rawValue ?? "this") variant (\(message))")
        case Int(GAS_IMG_NO_MEMORY): return .outOfMemory
        case Int(GAS_IMG_INVALID_ARGUMENT): return .invalidImage(reason: message)
        default: return .corruptImage(reason: message.isEmpty ? "the decoder failed" : message)
        }
    }
}
