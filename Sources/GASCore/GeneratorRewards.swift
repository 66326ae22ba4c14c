import Foundation

/// Resolution tiers of generator challenges (gas-subnet.md §3.6, `gas/evaluation/resolution_tiers.py`).
///
/// Images are ranked 1K < 2K < 4K by the shorter side; videos 480p < 720p < 1080p by pixel count.
public enum ResolutionTier: String, Codable, Sendable, CaseIterable, Comparable {
    case image1K = "1K", image2K = "2K", image4K = "4K"
    case video480p = "480p", video720p = "720p", video1080p = "1080p"

    public var modality: Modality {
        switch self {
        case .image1K, .image2K, .image4K: .image
        case .video480p, .video720p, .video1080p: .video
        }
    }

    /// Rank within its modality: 0, 1, 2 (`TIER_ORDER`).
    public var rank: Int {
        switch self {
        case .image1K, .video480p: 0
        case .image2K, .video720p: 1
        case .image4K, .video1080p: 2
        }
    }

    public static func < (a: ResolutionTier, b: ResolutionTier) -> Bool {
        a.modality == b.modality ? a.rank < b.rank : a.modality < b.modality
    }

    public static func tiers(for modality: Modality) -> [ResolutionTier] {
        allCases.filter { $0.modality == modality }
    }

    /// `normalize_tier`: case-insensitive.
    public static func parse(_ text: String) -> ResolutionTier? {
        let lower = text.lowercased()
        return allCases.first { $0.rawValue.lowercased() == lower }
    }

    /// Challenge tier weights (§2.3, `CHALLENGE_TIER_WEIGHTS`): image 1K .40 / 2K .40 / 4K .20,
    /// video 480p .40 / 720p .40 / 1080p .20.
    public static func challengeWeights(for modality: Modality) -> [(ResolutionTier, Double)] {
        switch modality {
        case .image: [(.image1K, 0.40), (.image2K, 0.40), (.image4K, 0.20)]
        case .video: [(.video480p, 0.40), (.video720p, 0.40), (.video1080p, 0.20)]
        case .audio: []
        }
    }

    /// Observed image tier by `min(w, h)` (§3.6): >= 3500 → 4K, >= 1900 → 2K, else 1K; non-positive → nil.
    public static func observedImage(width: Int, height: Int) -> ResolutionTier? {
        guard width > 0, height > 0 else { return nil }
        let side = min(width, height)
        if side >= 3500 { return .image4K }
        if side >= 1900 { return .image2K }
        return .image1K
    }

    /// Observed video tier by pixel count `w*h` (§3.6): >= 1,760,000 → 1080p (4K too), >= 780,000 → 720p, else 480p.
    public static func observedVideo(width: Int, height: Int) -> ResolutionTier? {
        guard width > 0, height > 0 else { return nil }
        let pixels = width * height
        if pixels >= 1_760_000 { return .video1080p }
        if pixels >= 780_000 { return .video720p }
        return .video480p
    }

    /// `effective_tier = min(observed, requested)`; observed nil → nil; requested unknown → observed.
    public static func effective(observed: ResolutionTier?, requested: ResolutionTier?) -> ResolutionTier? {
        guard let observed else { return nil }
        guard let requested, requested.modality == observed.modality else { return observed }
        return requested.rank < observed.rank ? requested : observed
    }

    /// `tier_shortfall = max(0, rank(requested) − rank(observed))`, 0 if either is unknown.
    public static func shortfall(observed: ResolutionTier?, requested: ResolutionTier?) -> Int {
        guard let observed, let requested, observed.modality == requested.modality else { return 0 }
        return max(0, requested.rank - observed.rank)
    }
}

/// One verified (stored) generation, as the base reward sees it.
public struct VerifiedGeneration: Sendable, Equatable {
    public var modality: Modality
    public var requested: ResolutionTier?
    public var observed: ResolutionTier?
    /// The C2PA model name (video pricing); this implementation has no C2PA, so it is nil.
    public var modelName: String?
    public init(modality: Modality, requested: ResolutionTier?, observed: ResolutionTier?, modelName: String? = nil) {
        self.modality = modality
        self.requested = requested
        self.observed = observed
        self.modelName = modelName
    }
}

/// Generator rewards exactly as GAS computes them (gas-subnet.md §1.5, §3.7, §3.8;
/// `gas/evaluation/rewards.py`). Pure functions: no I/O, no clock.
public enum GeneratorRewards {
    /// §1.5 `--scoring.image-weight` (default 0.30): share of the image base reward in the final reward.
    public static let imageWeight = 0.30
    /// §1.5 `--scoring.video-weight` (default 0.70): share of the video base reward in the final reward.
    public static let videoWeight = 0.70
    /// §3.7 volume: full credit for the first 10 verified generations (`min(v, 10)`).
    public static let volumeLinearCap = 10.0
    /// §3.7 `IMAGE_TIER_PRICES` {1K: 1, 2K: 2, 4K: 4}, relative to the 1K base price 1.0.
    public static let imageTierPrices: [ResolutionTier: Double] = [.image1K: 1, .image2K: 2, .image4K: 4]
    /// §3.7 `BASE = min(GENERATOR_MODEL_PRICES)` = 0.03 USD/s (veo-3.1-lite). Pinned: the original
    /// merges live OpenRouter prices at import, which is not deterministic across validators.
    public static let videoBasePrice = 0.03
    /// §3.7 `_VEO_TIER_PRICES` (USD/s), used when a video has no C2PA model name.
    public static let veoTierPrices: [ResolutionTier: Double] = [.video480p: 0.07, .video720p: 0.152, .video1080p: 0.40]
    /// §3.7 `VIDEO_UNDERSHOOT_TIER_DISCOUNT`: × 0.6 per tier a video falls short of the requested one.
    public static let videoUndershootDiscount = 0.6
    /// §3.8 sample size at which the fool-rate multiplier is 1.0 (`c / 20`, `1 + ln(c / 20)`).
    public static let foolSampleReference = 20.0
    /// §3.8 bounds: multiplier in [0.5, 2.0], bonus clamped to [0, 2].
    public static let foolMultiplierMin = 0.5, foolMultiplierMax = 2.0, foolBonusMax = 2.0

    /// §3.7 `volume(v) = min(v, 10) + max(0, log2(max(1, v − 9)))`: 10→10, 11→11, 13→12, 17→13, 25→14.
    public static func volume(_ verified: Int) -> Double {
        let v = Double(max(0, verified))
        return min(v, volumeLinearCap) + max(0, log2(max(1, v - 9)))
    }

    /// §3.7 per-image multiplier `sqrt(IMAGE_TIER_PRICES[effective_tier] / 1.0)`; tier nil → 1.
    public static func imageMultiplier(_ g: VerifiedGeneration) -> Double {
        let tier = ResolutionTier.effective(observed: g.observed, requested: g.requested)
        return (tier.flatMap { imageTierPrices[$0] } ?? 1.0).squareRoot()
    }

    /// §3.7 video price for a generation without a C2PA model name (Veo table), never below BASE.
    public static func videoPrice(_ g: VerifiedGeneration) -> Double {
        guard let tier = ResolutionTier.effective(observed: g.observed, requested: g.requested) else { return videoBasePrice }
        return max(veoTierPrices[tier] ?? videoBasePrice, videoBasePrice)
    }

    /// §3.7 per-video multiplier `sqrt(price / BASE) * 0.6 ** shortfall`.
    public static func videoMultiplier(_ g: VerifiedGeneration) -> Double {
        (videoPrice(g) / videoBasePrice).squareRoot()
            * pow(videoUndershootDiscount, Double(ResolutionTier.shortfall(observed: g.observed, requested: g.requested)))
    }

    /// §3.7 `mult_m`: mean per-generation multiplier; no generations → 1.0.
    public static func resolutionFactor(_ generations: [VerifiedGeneration], modality: Modality) -> Double {
        let own = generations.filter { $0.modality == modality }
        guard !own.isEmpty else { return 1.0 }
        let values = own.map { modality == .video ? videoMultiplier($0) : imageMultiplier($0) }
        return values.reduce(0, +) / Double(values.count)
    }

    /// §3.7 `B_m = pass_rate_m * volume(v_m) * mult_m`.
    public static func baseReward(passRate: Double, verified: Int, resolutionFactor: Double) -> Double {
        passRate * volume(verified) * resolutionFactor
    }

    /// §3.8 sample-size multiplier: `c >= 20 → min(2, 1 + ln(c/20))`, else `max(0.5, c/20)`.
    public static func foolSampleMultiplier(_ count: Int) -> Double {
        let c = Double(count)
        if c >= foolSampleReference { return min(foolMultiplierMax, 1 + log(c / foolSampleReference)) }
        return max(foolMultiplierMin, c / foolSampleReference)
    }

    /// §3.8 `bonus = clamp(f * s, 0, 2)` with `f = fooled / (fooled + not_fooled)`; nil when there is no evidence.
    public static func foolBonus(fooled: Int, notFooled: Int) -> Double? {
        let c = fooled + notFooled
        guard c > 0 else { return nil }
        let f = Double(fooled) / Double(c)
        return min(foolBonusMax, max(0, f * foolSampleMultiplier(c)))
    }

    /// §1.5 final reward `r = (0.30 * B_image + 0.70 * B_video) * (1 + bonus)`.
    public static func reward(imageBase: Double, videoBase: Double, bonus: Double) -> Double {
        (imageWeight * imageBase + videoWeight * videoBase) * (1 + bonus)
    }

    public static func modalityWeight(_ modality: Modality) -> Double {
        switch modality {
        case .image: imageWeight
        case .video: videoWeight
        case .audio: 0
        }
    }
}

/// Challenge counts of one generator in one modality and what came of them.
public struct GeneratorTally: Sendable, Equatable {
    /// Challenges that reached the generator (dispatch failures are not counted, as in GAS §1.4.7).
    public var evaluated: Int
    /// Deliveries that passed every check and were stored.
    public var verified: Int
    public var generations: [VerifiedGeneration]
    public init(evaluated: Int, verified: Int, generations: [VerifiedGeneration]) {
        self.evaluated = evaluated
        self.verified = verified
        self.generations = generations
    }
}

/// A generator's score for one round, per modality and overall.
public struct GeneratorScore: Sendable, Equatable, Codable {
    public struct ModalityPart: Sendable, Equatable, Codable {
        public var modality: Modality
        public var challenges: Int
        public var accepted: Int
        public var passRate: Double
        public var volumeFactor: Double
        public var resolutionFactor: Double
        public var baseReward: Double
        /// This modality's share of the final reward: `weight_m * B_m * (1 + bonus)`.
        public var reward: Double
        enum CodingKeys: String, CodingKey {
            case modality, challenges, accepted, reward
            case passRate = "pass_rate", volumeFactor = "volume_factor", resolutionFactor = "resolution_factor", baseReward = "base_reward"
        }
    }
    public var generator: String
    public var hotkey: String?
    public var uid: Int?
    public var challenges: Int
    public var accepted: Int
    public var passRate: Double
    public var fooled: Int
    public var notFooled: Int
    /// fooled / (fooled + not fooled); nil when no detector judged this generator's media.
    public var foolRate: Double?
    /// Samples of this generator in the round.
    public var samples: Int
    public var foolBonus: Double
    public var reward: Double
    public var modalities: [ModalityPart]

    enum CodingKeys: String, CodingKey {
        case generator, hotkey, uid, challenges, accepted, fooled, samples, reward, modalities
        case passRate = "pass_rate", notFooled = "not_fooled", foolRate = "fool_rate", foolBonus = "fool_bonus"
    }

    /// Scores one generator: base reward per modality (§3.7), fool bonus (§3.8), final reward (§1.5).
    public static func compute(generator: String, hotkey: String?, uid: Int?, tallies: [Modality: GeneratorTally],
                               fooled: Int, notFooled: Int, samples: Int) -> GeneratorScore {
        let bonus = GeneratorRewards.foolBonus(fooled: fooled, notFooled: notFooled) ?? 0
        var parts: [ModalityPart] = []
        var bases: [Modality: Double] = [:]
        for modality in tallies.keys.sorted() {
            guard let t = tallies[modality] else { continue }
            let pass = t.evaluated > 0 ? Double(t.verified) / Double(t.evaluated) : 0
            let volume = GeneratorRewards.volume(t.verified)
            let resolution = GeneratorRewards.resolutionFactor(t.generations, modality: modality)
            let base = GeneratorRewards.baseReward(passRate: pass, verified: t.verified, resolutionFactor: resolution)
            bases[modality] = base
            parts.append(ModalityPart(modality: modality, challenges: t.evaluated, accepted: t.verified, passRate: pass,
                                      volumeFactor: volume, resolutionFactor: resolution, baseReward: base,
                                      reward: GeneratorRewards.modalityWeight(modality) * base * (1 + bonus)))
        }
        let evaluated = tallies.values.map(\.evaluated).reduce(0, +)
        let verified = tallies.values.map(\.verified).reduce(0, +)
        let c = fooled + notFooled
        return GeneratorScore(
            generator: generator, hotkey: hotkey, uid: uid, challenges: evaluated, accepted: verified,
            passRate: evaluated > 0 ? Double(verified) / Double(evaluated) : 0, fooled: fooled, notFooled: notFooled,
            foolRate: c > 0 ? Double(fooled) / Double(c) : nil, samples: samples, foolBonus: bonus,
            reward: GeneratorRewards.reward(imageBase: bases[.image] ?? 0, videoBase: bases[.video] ?? 0, bonus: bonus),
            modalities: parts)
    }
}
