import GASCore
import GASMedia

/// Checks, before a sample enters a plan, that its bytes are media a detector can be handed.
/// Images are decoded; WAV audio has its header parsed; other audio and video formats are
/// recognised by their leading bytes (gascli does not decode them, detectors do).
public enum MediaValidation {
    public struct Problem: Sendable, Equatable {
        public var kind: String
        public var reason: String
    }

    public static func problem(bytes: [UInt8], format: String, modality: Modality, imageLimits: ImageLimits = .default) -> Problem? {
        switch modality {
        case .image:
            do {
                _ = try ImageCodec.decode(bytes, limits: imageLimits)
                return nil
            } catch {
                return Problem(kind: "image", reason: "\(error)")
            }
        case .audio, .video:
            let kind = modality.rawValue
            let sniffed = MediaFormat.sniff(bytes)
            if let sniffed, let actual = MediaFormat.modality(of: sniffed), actual != modality, !(sniffed == "mp4" && modality == .audio) {
                return Problem(kind: kind, reason: "the bytes are \(sniffed) (\(actual.rawValue)), not \(kind)")
            }
            if format == "bin" || (sniffed == nil && bytes.count < 16) {
                return Problem(kind: kind, reason: "unrecognised bytes (\(bytes.count) bytes), not a known \(kind) format")
            }
            if sniffed == "avi" {
                do {
                    _ = try MJPEGAVI.decodeFrames(bytes)
                } catch MediaError.unsupportedFormat {
                    // Another AVI codec: the detector decodes it.
                } catch {
                    return Problem(kind: kind, reason: "\(error)")
                }
            }
            if format == "wav" || sniffed == "wav" {
                do {
                    _ = try WAVAudio.parseHeader(bytes)
                } catch {
                    return Problem(kind: kind, reason: "\(error)")
                }
            }
            return nil
        }
    }
}
