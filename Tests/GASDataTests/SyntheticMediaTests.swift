import Foundation
import GASCore
import GASMedia
import Testing
@testable import GASData
@testable import GASDetectors

@Suite struct SyntheticMediaTests {
    @Test func proceduralSpeechIsDeterministicSpeechLikeWAV() throws {
        let a = WAVAudio.encodePCM16(ProceduralAudio.generate(seed: 7, duration: 1.5))
        let b = WAVAudio.encodePCM16(ProceduralAudio.generate(seed: 7, duration: 1.5))
        let c = WAVAudio.encodePCM16(ProceduralAudio.generate(seed: 8, duration: 1.5))
        #expect(a == b && a != c)
        let audio = try WAVAudio.decode(a)
        #expect(audio.sampleRate == 16000 && audio.samples.count == 24000)
        #expect(audio.samples.map(abs).max()! <= 0.951)
        let f = AudioStatistics.features(audio)
        #expect(f.count == AudioStatistics.featureNames.count && f.allSatisfy(\.isFinite))
        #expect(f[7] > 0.3, "voiced: strong pitch autocorrelation, \(f)")
        #expect(MediaFormat.sniff(a) == "wav")
    }

    @Test func proceduralVideoIsAnMJPEGAVI() throws {
        let v = try ProceduralVideo.generate(seed: 3, width: 32, height: 24, frames: 6)
        #expect(try ProceduralVideo.generate(seed: 3, width: 32, height: 24, frames: 6) == v)
        let decoded = try MJPEGAVI.decodeFrames(v)
        #expect(decoded.frames.count == 6)
        #expect(try ImageCodec.decode(decoded.frames[5]).height == 24)
        #expect(MediaFormat.sniff(v) == "avi")
        #expect(MediaValidation.problem(bytes: v, format: "avi", modality: .video) == nil)
        #expect(MediaValidation.problem(bytes: v, format: "avi", modality: .audio)?.reason.contains("not audio") == true)
    }

    @Test func embeddedModelsAreTheRepositoryFiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in EmbeddedModels.names {
            let file = try Data(contentsOf: root.appendingPathComponent("models/\(name).safetensors"))
            #expect(EmbeddedModels.bytes(named: name) == [UInt8](file), "run scripts/embed-models.sh after retraining \(name)")
        }
        let audio = try Safetensors(bytes: try #require(EmbeddedModels.bytes(named: "audio-baseline")))
        #expect(audio.metadata["format"] == BuiltinAudioBaseline.format)
        try audio.checkLayout(file: "audio-baseline")
    }
}

@Suite struct RobustnessAugmentationTests {
    @Test func suiteDownscalesLargeImagesAndReencodesJPEG() throws {
        let large = ProceduralImages.generate(seed: 1, width: 600, height: 400)
        let bytes = try RobustnessAugmentation.apply(large)
        #expect(MediaFormat.sniff(bytes) == "jpg")
        let decoded = try ImageCodec.decode(bytes)
        #expect(decoded.width == 600 && decoded.height == 400)
        #expect(try RobustnessAugmentation.apply(large) == bytes, "deterministic")
        // Downscale then upscale loses detail: the area/bilinear round trip differs from the input.
        let roundTrip = RobustnessAugmentation.resizeBilinear(RobustnessAugmentation.resizeArea(large, width: 300, height: 256), width: 600, height: 400)
        #expect(roundTrip.pixels != large.pixels && roundTrip.width == 600)
        // A flat image survives area + bilinear resizing unchanged.
        let flat = RGBImage(width: 10, height: 6, pixels: [UInt8](repeating: 77, count: 180))
        #expect(RobustnessAugmentation.resizeArea(flat, width: 4, height: 3).pixels.allSatisfy { $0 == 77 })
        #expect(RobustnessAugmentation.resizeBilinear(flat, width: 13, height: 9).pixels.allSatisfy { $0 == 77 })
        // Selection: deterministic per seed, about the share over many seeds.
        let chosen = (0..<2000).filter { RobustnessAugmentation.selects(seed: UInt64($0) &* 7919, share: 0.2) }.count
        #expect(chosen > 330 && chosen < 470, "\(chosen)")
        #expect(!RobustnessAugmentation.selects(seed: 5, share: 0))
        #expect(RobustnessAugmentation.baseID(of: RobustnessAugmentation.uri(base: "abc")) == "abc")
    }
}
