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
