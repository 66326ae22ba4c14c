import GASCore

/// A challenge prompt: its text, the modality it asks for and a stable id.
public struct ChallengePrompt: Sendable, Hashable, Codable {
    /// `p-` + 16 hex of FNV-1a over modality and text: the same prompt has the same id everywhere.
    public var id: String
    public var text: String
    public var modality: Modality
    /// The register the prompt was written in (phone_casual, cctv_surveillance, ...).
    public var register: String

    public init(text: String, modality: Modality, register: String) {
        self.text = text
        self.modality = modality
        self.register = register
        let h = StableHash.fnv1a64(modality.rawValue + "\n" + text)
        let hex = String(h, radix: 16)
        self.id = "p-" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Deterministic, template-based prompts for generator challenges.
///
/// GAS writes prompts with a VLM and an LLM from cached images (gas-subnet.md §2.2); that needs a GPU.
/// This stand-in keeps the parts that shape what generators are asked for — the register table and
/// its weights (§6 `register_sampler`), video camera motion and event counts, the remix pools of
/// times, weather, environments and moods — and fills a sentence template. Every draw comes from
/// SplitMix64 seeded by (seed, index, modality), so the same arguments give the same prompt on any machine.
public enum PromptGenerator {
    /// §6 register table: name, weight, video-only.
    static let registers: [(name: String, weight: Double, videoOnly: Bool, phrase: String)] = [
        ("phone_casual", 0.20, false, "a casual phone photo of"),
        ("phone_vertical", 0.10, false, "a vertical phone shot of"),
        ("cctv_surveillance", 0.08, false, "grainy CCTV footage of"),
        ("dashcam", 0.05, true, "dashcam footage of"),
        ("home_video", 0.07, false, "a home video of"),
        ("news_broadcast", 0.07, false, "a news broadcast shot of"),
        ("documentary", 0.08, false, "a documentary frame of"),
        ("drone_aerial", 0.05, false, "an aerial drone view of"),
        ("screen_recording", 0.04, false, "a screen recording showing"),
        ("animation_3d", 0.05, false, "a 3D animated scene of"),
        ("webcam_stream", 0.06, false, "a webcam stream of"),
        ("cinema_polished", 0.15, false, "a polished cinematic shot of"),
    ]
    static let subjects = [
        "an elderly man feeding pigeons", "two children building a sandcastle", "a cyclist waiting at a crossing",
        "a street vendor grilling corn", "a golden retriever chasing a ball", "a woman reading on a tram",
        "a chef plating a dessert", "a crowd leaving a stadium", "a fisherman mending nets", "a cat asleep on a windowsill",
        "a delivery van parking badly", "a teenager practising skateboard tricks", "a farmer inspecting wheat",
        "a violinist busking", "a nurse pushing a wheelchair", "a potter shaping clay", "a hiker crossing a rope bridge",
        "a barista steaming milk", "two old friends playing chess", "a mechanic under a car",
    ]
    /// §6 remix pools.
    static let times = ["dawn", "morning", "midday", "afternoon", "golden hour", "sunset", "dusk", "evening", "night"]
    static let weather = ["clear", "partly cloudy", "overcast", "foggy", "rainy", "snowy", "stormy"]
    static let environments = ["indoor", "outdoor", "mixed"]
    static let moods = ["serene", "tense", "joyful", "melancholic", "mundane", "chaotic", "festive", "lonely", "businesslike", "playful"]
    static let settings = [
        "a busy market square", "a quiet suburban street", "a train station platform", "a seaside promenade",
        "a cramped kitchen", "a city park", "a mountain village", "an office lobby", "a harbour at low tide",
        "a school playground", "a rooftop terrace", "a country road", "a laundromat", "a library reading room",
        "a parking garage",
    ]
    static let cameraMotions = ["static", "slow pan left", "slow pan right", "handheld follow", "dolly in", "tilt up"]
    static let lenses = ["wide angle", "35mm", "50mm", "telephoto"]

    public static func prompt(seed: UInt64, index: Int, modality: Modality) -> ChallengePrompt {
        var rng = SplitMix64(seed: seed, label: "prompt:\(modality.rawValue):\(index)")
        let pool = registers.filter { modality == .video || !$0.videoOnly }
        let total = pool.map(\.weight).reduce(0, +)
        let x = rng.nextUnit() * total
        var acc = 0.0
        var register = pool[pool.count - 1]
        for r in pool {
            acc += r.weight
            if acc >= x { register = r; break }
        }
        func pick(_ list: [String]) -> String { list[rng.nextInt(below: list.count)] }
        let subject = pick(subjects), setting = pick(settings), time = pick(times), sky = pick(weather)
        let environment = pick(environments), mood = pick(moods), lens = pick(lenses)
        var text = "\(register.phrase) \(subject) in \(setting) at \(time), \(sky) weather, \(environment), \(mood) mood, \(lens)"
        if modality == .video {
            let camera = register.name == "cctv_surveillance" || register.name == "webcam_stream" ? "static" : pick(cameraMotions)
            let u = rng.nextUnit()
            let events = u < 0.35 ? 0 : (u < 0.80 ? 1 : 2)  // §6 video events: 0 .35, 1 .45, 2 .20
            text += ", camera \(camera), \(events == 0 ? "ambient motion only" : "\(events) discrete event\(events == 1 ? "" : "s")")"
        }
        text = text.prefix(1).uppercased() + text.dropFirst() + "."
        return ChallengePrompt(text: text, modality: modality, register: register.name)
    }

    /// `count` prompts for one modality, indices `offset ..< offset + count`.
    public static func prompts(seed: UInt64, count: Int, modality: Modality, offset: Int = 0) -> [ChallengePrompt] {
        (0..<max(0, count)).map { prompt(seed: seed, index: offset + $0, modality: modality) }
    }
}

/// A delivery a generator miner made and the validator accepted, as the planner samples it.
public struct GeneratorMedia: Sendable, Hashable, Codable {
    public var generator: String
    public var collectionID: String
    public var taskID: String
    public var sha256: String
    /// Relative to the outputs folder (`media/ab/<sha256>.png`).
    public var mediaPath: String
    public var format: String
    public var bytes: Int
    public var modality: Modality

    public init(generator: String, collectionID: String, taskID: String, sha256: String, mediaPath: String, format: String,
                bytes: Int, modality: Modality) {
        self.generator = generator
        self.collectionID = collectionID
        self.taskID = taskID
        self.sha256 = sha256
        self.mediaPath = mediaPath
        self.format = format
        self.bytes = bytes
        self.modality = modality
    }

    /// `generator://<generator>/<collection>/<task id>`: stable for stored media, so a round over
    /// the same stored media plans the same samples.
    public var uri: String { "generator://\(generator)/\(collectionID)/\(taskID)" }
}
