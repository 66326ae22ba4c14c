/// Bounds checked against an image header before any pixel memory is allocated.
/// Why: a 100-byte PNG can declare 100000×100000 pixels (a decompression bomb).
public struct ImageLimits: Sendable, Equatable {
    /// Largest width × height accepted (40 MP ≈ 120 MB of RGB).
    public var maxPixels: Int = 40_000_000
    /// Largest width or height accepted.
    public var maxDimension: Int = 20_000

    public init(maxPixels: Int = 40_000_000, maxDimension: Int = 20_000) {
        self.maxPixels = maxPixels
        self.maxDimension = maxDimension
    }

    public static let `default` = ImageLimits()

    /// Throws `imageTooLarge` when the dimensions exceed these limits.
    public func check(width: Int, height: Int) throws(MediaError) {
        if width > maxDimension || height > maxDimension {
            throw .imageTooLarge(width: width, height: height, limit: maxDimension)
        }
        let (area, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || area > maxPixels {
            throw .imageTooLarge(width: width, height: height, limit: maxPixels)
        }
    }
}
