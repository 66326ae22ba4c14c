import Foundation
import GASTestSupport
import Testing
@testable import GASCore
@testable import GASData
@testable import GASMedia
@testable import GASNetwork
@testable import GASSpec

@Suite("Perceptual hash, duplicate index, delivery checks, prompts")
struct MediaChecksTests {
    @Test("pHash: same image 0, small brightness change and JPEG re-encoding stay close, different images far")
    func phash() throws {
        let a = ProceduralImages.generate(seed: 1, width: 256, height: 256)
        let h = PerceptualHash.phash(a)
        #expect(PerceptualHash.hamming(h, PerceptualHash.phash(a)) == 0)
        var brighter = a
        brighter.pixels = a.pixels.map { UInt8(min(255, Int($0) + 6)) }
        #expect(PerceptualHash.hamming(h, PerceptualHash.phash(brighter)) <= 4)
        let jpeg = try ImageCodec.decode(try ImageCodec.encodeJPEG(a, quality: 80))
        #expect(PerceptualHash.hamming(h, PerceptualHash.phash(jpeg)) <= 8)
        let hashes = (0..<24).map { PerceptualHash.phash(ProceduralImages.generate(seed: UInt64(100 + $0), width: 128, height: 128)) }
        var minimum = 64
        for i in 0..<hashes.count { for j in (i + 1)..<hashes.count { minimum = min(minimum, PerceptualHash.hamming(hashes[i], hashes[j])) } }
        #expect(minimum > 4, "closest pair of unrelated procedural images at Hamming \(minimum)")
        #expect(PerceptualHash.hamming(0b1011, 0b0110) == 3)
        #expect(PerceptualHash.parse(hex: PerceptualHash.hex(h)) == h && PerceptualHash.hex(1).count == 16)
    }

    @Test("Duplicate index: same prompt within 8 bits, anything within 4, exact bytes always")
    func duplicates() {
        var index = DuplicateIndex()
        let checks = DeliveryChecks()
        index.add(promptID: "p1", hash: 0, sha256: "aa")
        #expect(index.duplicate(promptID: "p1", hash: 0xFF, sha256: "bb", checks: checks)?.contains("same prompt") == true)  // 8 bits
        #expect(index.duplicate(promptID: "p2", hash: 0xFF, sha256: "bb", checks: checks) == nil)                              // 8 > 4
        #expect(index.duplicate(promptID: "p2", hash: 0x0F, sha256: "bb", checks: checks)?.contains("global") == true)        // 4 bits
        #expect(index.duplicate(promptID: "p1", hash: 0x1FF, sha256: "bb", checks: checks) == nil)                             // 9 bits
        #expect(index.duplicate(promptID: "p9", hash: nil, sha256: "aa", checks: checks)?.contains("byte-identical") == true)
    }

    @Test("Delivery checks: garbage, undersized, oversized, tier, video magic")
    func deliveryChecks() throws {
        let checks = DeliveryChecks(minSide: 64, maxImageBytes: 1 << 20, maxVideoBytes: 1000, requireTier: true)
        let png = try ImageCodec.encodePNG(ProceduralImages.generate(seed: 3, width: 96, height: 80))
        let ok = try DeliveryVerifier.check(png, modality: .image, requested: .image1K, checks: checks).get()
        #expect(ok.format == "png" && ok.width == 96 && ok.observedTier == .image1K && ok.perceptualHash != nil)
        func reason(_ r: Result<VerifiedMedia, DeliveryRejection>) -> String? { if case let .failure(e) = r { e.reason } else { nil } }
        #expect(reason(DeliveryVerifier.check(Array("not an image at all".utf8), modality: .image, requested: nil, checks: checks))?.contains("corrupted") == true)
        #expect(reason(DeliveryVerifier.check(Array(png.prefix(60)), modality: .image, requested: nil, checks: checks))?.contains("corrupted") == true)
        let tiny = try ImageCodec.encodePNG(ProceduralImages.generate(seed: 3, width: 16, height: 16))
        #expect(reason(DeliveryVerifier.check(tiny, modality: .image, requested: nil, checks: checks))?.contains("undersized") == true)
        #expect(reason(DeliveryVerifier.check(png, modality: .image, requested: .image2K, checks: checks))?.contains("below the requested") == true)
        var small = checks
        small.maxImageBytes = 100
        #expect(reason(DeliveryVerifier.check(png, modality: .image, requested: nil, checks: small))?.contains("max_image_bytes") == true)
        let mp4: [UInt8] = [0, 0, 0, 24] + Array("ftypisom".utf8) + [UInt8](repeating: 0, count: 40)
        #expect(try DeliveryVerifier.check(mp4, modality: .video, requested: .video720p, checks: checks).get().format == "mp4")
        #expect(reason(DeliveryVerifier.check(png, modality: .video, requested: nil, checks: checks))?.contains("max_video_bytes") == true)
        #expect(reason(DeliveryVerifier.check(Array(png.prefix(900)), modality: .video, requested: nil, checks: checks))?.contains("MP4") == true)
        #expect(reason(DeliveryVerifier.check([], modality: .image, requested: nil, checks: checks)) == "empty body")
    }

    @Test("Prompt generator: deterministic per (seed, index, modality), varied, video prompts name camera and events")
    func prompts() {
        let a = PromptGenerator.prompts(seed: 34, count: 20, modality: .image)
        #expect(a == PromptGenerator.prompts(seed: 34, count: 20, modality: .image))
        #expect(Set(a.map(\.text)).count == 20 && Set(a.map(\.id)).count == 20)
        #expect(PromptGenerator.prompts(seed: 35, count: 20, modality: .image) != a)
        #expect(PromptGenerator.prompt(seed: 34, index: 5, modality: .image) == a[5])
        #expect(a.allSatisfy { !$0.text.contains("camera") && $0.register != "dashcam" && $0.id.hasPrefix("p-") })
        let v = PromptGenerator.prompts(seed: 34, count: 30, modality: .video)
        #expect(v.allSatisfy { $0.text.contains("camera") })
        #expect(Set(v.map(\.register)).count >= 5)
        #expect(a[0].id == ChallengePrompt(text: a[0].text, modality: .image, register: "x").id)
    }

    @Test("Builtin backend: deterministic from prompt and seed, honours the tier's size")
    func builtin() async throws {
        let backend = BuiltinBackend(sizes: [.image1K: 128, .image2K: 1900, .image4K: 3500])
        let request = GenerationRequest(taskID: "t", prompt: "a red fox", modality: .image, tier: .image1K, seed: 7)
        guard case let .media(a) = await backend.generate(request), case let .media(b) = await backend.generate(request) else {
            Issue.record("no media"); return
        }
        #expect(a == b)
        let image = try ImageCodec.decode(a)
        #expect(image.width == 128 && image.height == 128)
        var other = request
        other.prompt = "a blue fox"
        guard case let .media(c) = await backend.generate(other) else { Issue.record("no media"); return }
        #expect(c != a)
        other.modality = .video
        guard case .failure = await backend.generate(other) else { Issue.record("video should fail"); return }
    }
}

@Suite("Command backend runs an external generator")
struct CommandBackendTests {
    static let script = TestSupport.repositoryRoot + "/examples/generators/example_generator.py"

    func request(_ tier: ResolutionTier = .image1K) -> GenerationRequest {
        GenerationRequest(taskID: UUID().uuidString, prompt: "a harbour at dawn", modality: .image, tier: tier, seed: 11)
    }

    @Test("The example script's PNG comes back; the same prompt and seed give the same bytes")
    func example() async throws {
        let backend = CommandBackend(argv: ["python3", Self.script, "{prompt}", "{output}", "{resolution}", "{seed}", "--side-1k", "48"],
                                     timeoutSeconds: 60, maxOutputBytes: 1 << 20, workingDirectory: TestSupport.repositoryRoot)
        guard case let .media(a) = await backend.generate(request()), case let .media(b) = await backend.generate(request()) else {
            Issue.record("no media"); return
        }
        #expect(a == b)
        let image = try ImageCodec.decode(a)
        #expect(image.width == 48 && image.height == 48)
    }

    @Test("Non-zero exit, missing output, oversized output and timeouts are failures with a reason")
    func failures() async throws {
        func reason(_ argv: [String], timeout: Double = 30, max: Int = 1 << 20, tier: ResolutionTier = .image1K) async -> String? {
            let backend = CommandBackend(argv: argv, timeoutSeconds: timeout, maxOutputBytes: max, workingDirectory: NSTemporaryDirectory())
            if case let .failure(why) = await backend.generate(request(tier)) { return why }
            return nil
        }
        let r3 = await reason(["python3", Self.script, "{prompt}", "{output}", "{resolution}", "{seed}"], tier: .video720p)
        #expect(r3?.contains("status 3") == true, "\(r3 ?? "nil")")
        #expect(await reason(["sh", "-c", "echo nothing; exit 0", "{output}"])?.contains("wrote no file") == true)
        #expect(await reason(["sh", "-c", "head -c 5000 /dev/zero > \"$0\"", "{output}"], max: 1000)?.contains("above the limit") == true)
        // Killed by the timeout (a natural end would be "wrote no file"), whatever the machine's load.
        #expect(await reason(["sh", "-c", "sleep 60", "{output}"], timeout: 0.5)?.contains("signal") == true)
    }
}
