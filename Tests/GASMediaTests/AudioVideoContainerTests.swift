import Foundation
import GASTestSupport
import Testing
@testable import GASMedia

@Suite struct WAVAudioTests {
    /// A WAV file by hand: `format` 1 = PCM, 3 = float; interleaved `frames` of `channels` values.
    func wav(format: Int, bits: Int, channels: Int, rate: Int, samples: [[Double]], extensible: Bool = false) -> [UInt8] {
        var data: [UInt8] = []
        for frame in samples {
            for v in frame {
                switch (format, bits) {
                case (1, 8): data.append(UInt8(max(0, min(255, Int((v * 128 + 128).rounded())))))
                case (1, 16): data += withUnsafeBytes(of: Int16(max(-32768, min(32767, (v * 32768).rounded()))).littleEndian, Array.init)
                case (1, 24):
                    let i = Int32(max(-8_388_608, min(8_388_607, (v * 8_388_608).rounded())))
                    data += withUnsafeBytes(of: i.littleEndian, Array.init).prefix(3)
                case (3, 32): data += withUnsafeBytes(of: Float(v).bitPattern.littleEndian, Array.init)
                default: data += withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init)
                }
            }
        }
        func le32(_ v: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(v).littleEndian, Array.init) }
        func le16(_ v: Int) -> [UInt8] { withUnsafeBytes(of: UInt16(v).littleEndian, Array.init) }
        var fmt = le16(extensible ? 0xFFFE : format) + le16(channels) + le32(rate) + le32(rate * channels * bits / 8) + le16(channels * bits / 8) + le16(bits)
        if extensible { fmt += le16(22) + le16(bits) + le32(0) + le16(format) + [UInt8](repeating: 0, count: 14) }
        let list = Array("LIST".utf8) + le32(4) + Array("INFO".utf8)
        let body = Array("WAVE".utf8) + Array("fmt ".utf8) + le32(fmt.count) + fmt + list + Array("data".utf8) + le32(data.count) + data
        return Array("RIFF".utf8) + le32(body.count) + body
    }

    @Test(arguments: [(1, 8), (1, 16), (1, 24), (3, 32), (3, 64)])
    func decodesPCMAndFloatMonoAndStereo(format: Int, bits: Int) throws {
        let frames = (0..<100).map { i in [sin(Double(i) / 7) * 0.5, cos(Double(i) / 5) * 0.25] }
        for extensible in [false, true] {
            let audio = try WAVAudio.decode(wav(format: format, bits: bits, channels: 2, rate: 22050, samples: frames, extensible: extensible))
            #expect(audio.sampleRate == 22050 && audio.samples.count == 100)
            let tolerance = bits == 8 ? 0.01 : 1e-4
            for (i, frame) in frames.enumerated() {
                #expect(abs(Double(audio.samples[i]) - (frame[0] + frame[1]) / 2) < tolerance, "\(format)/\(bits) frame \(i)")
            }
        }
    }

    @Test func encodesPCM16ThatDecodesBack() throws {
        let original = WAVAudio(sampleRate: 16000, samples: (0..<1000).map { Float(sin(Double($0) / 10) * 0.8) })
        let bytes = WAVAudio.encodePCM16(original)
        #expect(bytes.count == 44 + 2000)
        let back = try WAVAudio.decode(bytes)
        #expect(back.sampleRate == 16000 && back.samples.count == 1000)
        #expect(zip(back.samples, original.samples).allSatisfy { abs($0 - $1) < 1e-4 })
        #expect(WAVAudio.encodePCM16(original) == bytes, "deterministic")
    }

    @Test func malformedWAVIsAClearError() throws {
        let good = wav(format: 1, bits: 16, channels: 1, rate: 8000, samples: [[0.1], [0.2]])
        let cases: [([UInt8], String)] = [
            (Array("not a wav file at all".utf8), "not a WAV file"),
            (Array(good.prefix(20)), "fmt chunk is truncated"),
            (wav(format: 2, bits: 4, channels: 1, rate: 8000, samples: []), "not PCM (1) or IEEE float (3)"),
            (wav(format: 1, bits: 12, channels: 1, rate: 8000, samples: []), "12-bit PCM samples are not supported"),
            (Array(good.prefix(36)), "no data chunk"),
        ]
        for (bytes, expected) in cases {
            do {
                _ = try WAVAudio.decode(bytes)
                Issue.record("expected \(expected)")
            } catch {
                #expect(error.description.contains(expected), "\(error)")
            }
        }
    }
}

@Suite struct MJPEGAVITests {
    @Test func framesRoundTripThroughTheContainer() throws {
        let frames: [[UInt8]] = try (0..<5).map { i in
            try ImageCodec.encodeJPEG(RGBImage(width: 16, height: 8, pixels: [UInt8](repeating: UInt8(i * 40), count: 16 * 8 * 3)), quality: 80)
        }
        let avi = MJPEGAVI.encode(frames: frames, width: 16, height: 8, fps: 8)
        #expect(avi.prefix(4).elementsEqual("RIFF".utf8) && avi[8..<12].elementsEqual("AVI ".utf8))
        let decoded = try MJPEGAVI.decodeFrames(avi)
        #expect(decoded.frames == frames && abs(decoded.fps - 8) < 1e-9)
        #expect(try ImageCodec.decode(decoded.frames[3]).width == 16)
        #expect(throws: MediaError.self) { try MJPEGAVI.decodeFrames(Array(avi.prefix(avi.count / 2))) }
        #expect(throws: MediaError.self) { try MJPEGAVI.decodeFrames(Array("RIFF....WAVE".utf8)) }
    }

    @Test func pythonReadsOurAVIWithPillowOnly() throws {
        try TestSupport.requirePythonModules(["numpy", "PIL"])
        let frames: [[UInt8]] = try (0..<3).map { i in
            try ImageCodec.encodeJPEG(RGBImage(width: 24, height: 16, pixels: [UInt8](repeating: UInt8(50 + i * 60), count: 24 * 16 * 3)), quality: 90)
        }
        let dir = try TestSupport.temporaryDirectory("avi")
        try Data(MJPEGAVI.encode(frames: frames, width: 24, height: 16, fps: 10)).write(to: URL(fileURLWithPath: dir + "/v.avi"))
        let script = """
            import sys, importlib.util
            spec = importlib.util.spec_from_file_location("host", sys.argv[1])
            host = importlib.util.module_from_spec(spec); spec.loader.exec_module(host)
            clip = host.prepare_video(sys.argv[2], (8, 12), 5, None)
            print(clip.shape, clip.dtype, [int(clip[i].mean()) for i in range(5)])
            """
        let r = try TestSupport.python(script, [TestSupport.repositoryRoot + "/hosts/gas_model_host.py", dir + "/v.avi"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("(5, 3, 8, 12) uint8"), "T frames padded with the last: \(r.stdout)")
        let means = r.stdout.split(separator: "[").last.map { $0.dropLast(2).split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } } ?? []
        #expect(means.count == 5 && abs(means[0] - 50) <= 2 && abs(means[2] - 170) <= 2 && means[3] == means[2] && means[4] == means[2], "\(r.stdout)")
    }
}
