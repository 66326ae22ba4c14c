/// 8-bit RGB pixels, row-major, no padding. Why: one pixel format for every detector and generator.
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `width * height * 3` bytes: R, G, B for each pixel, rows top to bottom.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The byte count `pixels` must have, or nil when the dimensions are not positive or overflow.
    public var expectedByteCount: Int? {
        guard width > 0, height > 0 else { return nil }
        let (area, o1) = width.multipliedReportingOverflow(by: height)
        let (bytes, o2) = area.multipliedReportingOverflow(by: 3)
        return o1 || o2 ? nil : bytes
    }
}
