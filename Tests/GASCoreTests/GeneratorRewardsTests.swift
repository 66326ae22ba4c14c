import Foundation
import Testing
@testable import GASCore

@Suite("Generator rewards (gas-subnet.md §3.6–3.8), hand-computed vectors")
struct GeneratorRewardsTests {
    func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool { abs(a - b) <= tolerance }

    @Test("volume(v) = min(v, 10) + max(0, log2(max(1, v - 9)))")
    func volume() {
        let cases: [(Int, Double)] = [(0, 0), (1, 1), (4, 4), (9, 9), (10, 10), (11, 11), (13, 12), (17, 13), (25, 14), (12, 10 + log2(3.0))]
        for (v, expected) in cases { #expect(close(GeneratorRewards.volume(v), expected), "volume(\(v))") }
    }

    @Test("Resolution tiers: observed by shorter side / pixel count, effective = min, shortfall")
    func tiers() {
        #expect(ResolutionTier.observedImage(width: 1024, height: 4000) == .image1K)
        #expect(ResolutionTier.observedImage(width: 1900, height: 2000) == .image2K)
        #expect(ResolutionTier.observedImage(width: 3500, height: 3500) == .image4K)
        #expect(ResolutionTier.observedImage(width: 0, height: 10) == nil)
        #expect(ResolutionTier.observedVideo(width: 1280, height: 720) == .video720p)   // 921,600 >= 780,000
        #expect(ResolutionTier.observedVideo(width: 1920, height: 1080) == .video1080p)  // 2,073,600
        #expect(ResolutionTier.observedVideo(width: 854, height: 480) == .video480p)
        #expect(ResolutionTier.effective(observed: .image4K, requested: .image2K) == .image2K)
        #expect(ResolutionTier.effective(observed: .image1K, requested: .image4K) == .image1K)
        #expect(ResolutionTier.effective(observed: nil, requested: .image4K) == nil)
        #expect(ResolutionTier.effective(observed: .image2K, requested: nil) == .image2K)
        #expect(ResolutionTier.shortfall(observed: .video720p, requested: .video1080p) == 1)
        #expect(ResolutionTier.shortfall(observed: .video1080p, requested: .video480p) == 0)
        #expect(ResolutionTier.parse("4k") == .image4K && ResolutionTier.parse("1080P") == .video1080p)
    }

    @Test("Image multiplier sqrt(price[effective] / 1): ×1, ×1.414, ×2; unknown tier ×1")
    func imageMultiplier() {
        func g(_ r: ResolutionTier?, _ o: ResolutionTier?) -> VerifiedGeneration { VerifiedGeneration(modality: .image, requested: r, observed: o) }
        #expect(close(GeneratorRewards.imageMultiplier(g(.image1K, .image1K)), 1))
        #expect(close(GeneratorRewards.imageMultiplier(g(.image2K, .image4K)), 2.0.squareRoot()))
        #expect(close(GeneratorRewards.imageMultiplier(g(.image4K, .image4K)), 2))
        #expect(close(GeneratorRewards.imageMultiplier(g(.image4K, nil)), 1))
        // Mean over generations: (1 + 2) / 2.
        #expect(close(GeneratorRewards.resolutionFactor([g(.image1K, .image1K), g(.image4K, .image4K)], modality: .image), 1.5))
        #expect(close(GeneratorRewards.resolutionFactor([], modality: .image), 1))
    }

    @Test("Video multiplier sqrt(veo price / 0.03) × 0.6^shortfall: 1.528, 2.251, 3.651, 1.351")
    func videoMultiplier() {
        func g(_ r: ResolutionTier?, _ o: ResolutionTier?) -> VerifiedGeneration { VerifiedGeneration(modality: .video, requested: r, observed: o) }
        #expect(close(GeneratorRewards.videoMultiplier(g(.video480p, .video480p)), (0.07 / 0.03).squareRoot()))
        #expect(close(GeneratorRewards.videoMultiplier(g(.video720p, .video720p)), 2.250925735, 1e-8))
        #expect(close(GeneratorRewards.videoMultiplier(g(.video1080p, .video1080p)), 3.651483717, 1e-8))
        // 1080p requested, 720p delivered: effective 720p price and one tier short.
        #expect(close(GeneratorRewards.videoMultiplier(g(.video1080p, .video720p)), 2.250925735 * 0.6, 1e-8))
        // No observed tier (no video decoder): BASE price, multiplier 1.
        #expect(close(GeneratorRewards.videoMultiplier(g(.video1080p, nil)), 1))
    }

    @Test("Fool bonus: s = min(2, 1 + ln(c/20)) for c >= 20, max(0.5, c/20) below; bonus = clamp(f·s, 0, 2)")
    func foolBonus() {
        #expect(close(GeneratorRewards.foolSampleMultiplier(20), 1))
        #expect(close(GeneratorRewards.foolSampleMultiplier(40), 1 + log(2.0)))
        #expect(close(GeneratorRewards.foolSampleMultiplier(60), 2))  // 1 + ln 3 = 2.0986 → capped
        #expect(close(GeneratorRewards.foolSampleMultiplier(15), 0.75))
        #expect(close(GeneratorRewards.foolSampleMultiplier(5), 0.5))
        #expect(GeneratorRewards.foolBonus(fooled: 0, notFooled: 0) == nil)
        #expect(close(GeneratorRewards.foolBonus(fooled: 10, notFooled: 30)!, 0.25 * (1 + log(2.0))))   // 0.42329
        #expect(close(GeneratorRewards.foolBonus(fooled: 50, notFooled: 10)!, 50.0 / 60.0 * 2))          // 1.66667
        #expect(close(GeneratorRewards.foolBonus(fooled: 60, notFooled: 0)!, 2))                          // clamp
        #expect(close(GeneratorRewards.foolBonus(fooled: 3, notFooled: 3)!, 0.5 * 0.5))                   // c = 6 → s = 0.5
    }

    @Test("Final reward (0.30 B_image + 0.70 B_video)(1 + bonus) and the per-generator score")
    func finalReward() {
        #expect(close(GeneratorRewards.reward(imageBase: 2, videoBase: 0, bonus: 0.25), 0.75))
        #expect(close(GeneratorRewards.reward(imageBase: 2, videoBase: 3, bonus: 1), (0.6 + 2.1) * 2))
        let gens = (0..<4).map { _ in VerifiedGeneration(modality: .image, requested: .image1K, observed: .image1K) }
        let s = GeneratorScore.compute(generator: "g", hotkey: nil, uid: 3, tallies: [.image: GeneratorTally(evaluated: 8, verified: 4, generations: gens)],
                                       fooled: 10, notFooled: 30, samples: 4)
        // pass 0.5 × volume 4 × resolution 1 = B 2; bonus 0.25 × (1 + ln 2); r = 0.3 × 2 × (1 + bonus).
        #expect(close(s.passRate, 0.5) && s.accepted == 4 && s.challenges == 8)
        #expect(close(s.foolRate!, 0.25))
        #expect(close(s.reward, 0.6 * (1 + 0.25 * (1 + log(2.0)))))
        #expect(s.modalities.count == 1 && close(s.modalities[0].baseReward, 2) && close(s.modalities[0].reward, s.reward))
        let none = GeneratorScore.compute(generator: "z", hotkey: nil, uid: nil, tallies: [.image: GeneratorTally(evaluated: 0, verified: 0, generations: [])],
                                          fooled: 0, notFooled: 0, samples: 0)
        #expect(none.reward == 0 && none.foolRate == nil && none.foolBonus == 0)
    }
}
