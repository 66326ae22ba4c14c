import Foundation
import GASCore
import GASMedia

/// The builtin procedural speech-like generator: syllables of a harmonic voice whose harmonics are
/// shaped by three formant resonances, with intonation, vibrato, attack/decay envelopes, short
/// noise bursts (fricatives) and pauses. A stand-in for a text-to-speech model, deterministic from
/// the seed (IEEE double arithmetic only), written as 16-bit PCM mono WAV.
public enum ProceduralAudio {
    public static let sampleRate = 16000

    /// Vowel-like formant triples (Hz), roughly /a/ /e/ /i/ /o/ /u/.
    static let vowels: [(Double, Double, Double)] = [(730, 1090, 2440), (530, 1840, 2480), (270, 2290, 3010),
                                                      (570, 840, 2410), (300, 870, 2240)]

    public static func generate(seed: UInt64, duration: Double) -> WAVAudio {
        var rng = SplitMix64(seed: seed, label: "procedural-speech")
        let n = max(1, Int(duration * Double(sampleRate)))
        var out = [Double](repeating: 0, count: n)
        let baseF0 = 95 + rng.nextUnit() * 140          // speaker pitch
        let rateJitter = 0.6 + rng.nextUnit() * 0.8
        var t = Int(0.05 * Double(sampleRate) * (0.5 + rng.nextUnit()))
        var phase = 0.0
        while t < n {
            let syllable = Int((0.12 + rng.nextUnit() * 0.22) * rateJitter * Double(sampleRate))
            let vowel = vowels[rng.nextInt(below: vowels.count)]
            let shift = 0.9 + rng.nextUnit() * 0.2
            let f0Start = baseF0 * (0.9 + rng.nextUnit() * 0.25), f0End = baseF0 * (0.85 + rng.nextUnit() * 0.25)
            let loud = 0.25 + rng.nextUnit() * 0.35
            let vibratoRate = 4 + rng.nextUnit() * 2, vibratoDepth = 0.01 + rng.nextUnit() * 0.02
            // A fricative before some syllables: band-limited noise.
            if rng.nextUnit() < 0.35 {
                let length = Int((0.03 + rng.nextUnit() * 0.06) * Double(sampleRate))
                var smooth = 0.0
                for k in 0..<length where t + k < n {
                    let white = rng.nextUnit() * 2 - 1
                    smooth = 0.35 * smooth + white                       // tilt towards high frequencies
                    let env = sin(Double.pi * Double(k) / Double(length))
                    out[t + k] += 0.06 * env * (white - 0.6 * smooth)
                }
                t += length
            }
            let harmonics = Int(3800 / max(f0Start, f0End))
            for k in 0..<syllable where t + k < n {
                let u = Double(k) / Double(syllable)
                let f0 = (f0Start + (f0End - f0Start) * u) * (1 + vibratoDepth * sin(2 * Double.pi * vibratoRate * Double(k) / Double(sampleRate)))
                phase += 2 * Double.pi * f0 / Double(sampleRate)
                let envelope = min(1, u / 0.15) * min(1, (1 - u) / 0.3)
                var v = 0.0
                for h in 1...max(1, harmonics) {
                    let f = Double(h) * f0
                    let gain = formantGain(f, vowel.0 * shift, 90) + 0.6 * formantGain(f, vowel.1 * shift, 120) + 0.3 * formantGain(f, vowel.2 * shift, 170)
                    v += gain / Double(h).squareRoot() * sin(Double(h) * phase)
                }
                out[t + k] += loud * envelope * v * 0.25
            }
            t += syllable + Int((0.02 + rng.nextUnit() * (rng.nextUnit() < 0.2 ? 0.3 : 0.08)) * Double(sampleRate))
        }
        let peak = out.map(abs).max() ?? 0
        let scale = peak > 0.95 ? 0.95 / peak : 1
        return WAVAudio(sampleRate: sampleRate, samples: out.map { Float($0 * scale) })
    }

    /// A resonance: 1 at the centre, falling off over `bandwidth` Hz.
    static func formantGain(_ f: Double, _ centre: Double, _ bandwidth: Double) -> Double {
        let d = (f - centre) / bandwidth
        return 1 / (1 + d * d)
    }
}
