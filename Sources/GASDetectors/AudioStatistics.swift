import Foundation
import GASCore
import GASMedia

/// Eight cues the builtin audio baseline looks at, computed from mono PCM at the file's own rate
/// (frames of 512 samples at ≤ 24 kHz, 1024 above, hop of half a frame, Hann window).
///
/// Procedural and vocoder speech tends to be too regular: flat pitch strength, little breath
/// noise between syllables, clean harmonic spectra. Real recordings carry room noise, a broad
/// high band and irregular dynamics. None of this is a real deepfake detector: it is a floor.
public enum AudioStatistics {
    public static let featureNames = ["spectral_flatness", "zero_crossing_rate", "rms_variation", "spectral_centroid",
                                      "silence_fraction", "high_band_ratio", "spectral_flux", "pitch_strength"]

    public static func features(_ audio: WAVAudio) -> [Double] {
        let rate = max(1, audio.sampleRate)
        let frame = rate <= 24000 ? 512 : 1024
        let hop = frame / 2
        let x = audio.samples.map(Double.init)
        guard x.count >= frame else { return [Double](repeating: 0, count: featureNames.count) }
        let window = (0..<frame).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(frame)) }
        var flatness: [Double] = [], centroid: [Double] = [], highBand: [Double] = [], flux: [Double] = [], rms: [Double] = []
        var pitch: [Double] = []
        var previous: [Double]?
        let nyquist = Double(rate) / 2
        let binHz = Double(rate) / Double(frame)
        let highBin = min(frame / 2, Int(4000 / binHz))
        var start = 0
        var index = 0
        while start + frame <= x.count {
            defer { index += 1 }
            let chunk = Array(x[start..<(start + frame)])
            let energy = chunk.reduce(0) { $0 + $1 * $1 } / Double(frame)
            rms.append(energy.squareRoot())
            var re = (0..<frame).map { chunk[$0] * window[$0] }
            var im = [Double](repeating: 0, count: frame)
            FFT.transform(&re, &im)
            let power = (0...(frame / 2)).map { re[$0] * re[$0] + im[$0] * im[$0] + 1e-12 }
            let total = power.reduce(0, +)
            if energy > 1e-7 {
                let logMean = power.reduce(0) { $0 + Foundation.log($1) } / Double(power.count)
                flatness.append(Foundation.exp(logMean) / (total / Double(power.count)))
                centroid.append(power.enumerated().reduce(0) { $0 + Double($1.offset) * binHz * $1.element } / total / nyquist)
                highBand.append(power[highBin...].reduce(0, +) / total)
                let norm = power.map { $0 / total }
                if let previous { flux.append(zip(norm, previous).reduce(0) { $0 + abs($1.0 - $1.1) }) }
                previous = norm
                if index % 4 == 0 { pitch.append(pitchStrength(chunk, rate: rate)) }
            }
            start += hop
        }
        var crossings = 0
        for i in 1..<x.count where (x[i] >= 0) != (x[i - 1] >= 0) { crossings += 1 }
        func mean(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count) }
        let rmsMean = mean(rms)
        let rmsStd = (rms.reduce(0) { $0 + ($1 - rmsMean) * ($1 - rmsMean) } / Double(max(1, rms.count))).squareRoot()
        let loudest = rms.max() ?? 0
        let silent = rms.filter { $0 < 0.1 * loudest }.count
        return [mean(flatness), Double(crossings) / Double(x.count), rmsMean > 0 ? rmsStd / rmsMean : 0, mean(centroid),
                Double(silent) / Double(max(1, rms.count)), mean(highBand), mean(flux), mean(pitch)]
    }

    /// Highest normalised autocorrelation for lags of 70–400 Hz pitch.
    static func pitchStrength(_ x: [Double], rate: Int) -> Double {
        let minLag = max(1, rate / 400), maxLag = min(x.count - 1, rate / 70)
        guard minLag < maxLag else { return 0 }
        let energy = x.reduce(0) { $0 + $1 * $1 }
        guard energy > 0 else { return 0 }
        var best = 0.0
        var lag = minLag
        while lag <= maxLag {
            var s = 0.0
            for i in 0..<(x.count - lag) { s += x[i] * x[i + lag] }
            best = max(best, s / energy)
            lag += 1
        }
        return best
    }
}

/// In-place iterative radix-2 FFT (the length must be a power of two).
enum FFT {
    static func transform(_ re: inout [Double], _ im: inout [Double]) {
        let n = re.count
        guard n > 1, n & (n - 1) == 0 else { return }
        var j = 0
        for i in 1..<n {
            var bit = n >> 1
            while j & bit != 0 { j ^= bit; bit >>= 1 }
            j |= bit
            if i < j { re.swapAt(i, j); im.swapAt(i, j) }
        }
        var length = 2
        while length <= n {
            let angle = -2 * Double.pi / Double(length)
            let wr = cos(angle), wi = sin(angle)
            var start = 0
            while start < n {
                var cr = 1.0, ci = 0.0
                for k in 0..<(length / 2) {
                    let a = start + k, b = a + length / 2
                    let tr = re[b] * cr - im[b] * ci, ti = re[b] * ci + im[b] * cr
                    re[b] = re[a] - tr; im[b] = im[a] - ti
                    re[a] += tr; im[a] += ti
                    let next = cr * wr - ci * wi
                    ci = cr * wi + ci * wr
                    cr = next
                }
                start += length
            }
            length <<= 1
        }
    }
}

/// The builtin audio baseline: logistic regression over `AudioStatistics` of WAV files, weights in
/// safetensors (`mean`, `scale`, `weight`, `bias`; metadata `format: gascli-audio-baseline-v1`).
public final class BuiltinAudioBaseline: DetectorAdapter {
    public static let format = "gascli-audio-baseline-v1"
    public let name: String
    let mean: [Double], scale: [Double], weight: [Double]
    let bias: Double

    public init(name: String, weights: Safetensors) throws {
        self.name = name
        let n = AudioStatistics.featureNames.count
        mean = try weights.doubles("mean")
        scale = try weights.doubles("scale")
        weight = try weights.doubles("weight")
        let b = try weights.doubles("bias")
        guard mean.count == n, scale.count == n, weight.count == n, b.count == 1,
              scale.allSatisfy({ $0 != 0 && $0.isFinite }), (mean + weight + b).allSatisfy(\.isFinite) else {
            throw SafetensorsError.invalid(file: "audio baseline weights",
                                           reason: "expected \(n) finite values in mean/scale/weight (scale non-zero) and 1 in bias (features: \(AudioStatistics.featureNames.joined(separator: ", ")))")
        }
        bias = b[0]
    }

    public func start() async throws -> DetectorHello {
        DetectorHello(name: name, protocolVersion: 1, modalities: [.audio])
    }

    public func probability(_ audio: WAVAudio) -> Double {
        let f = AudioStatistics.features(audio)
        var z = bias
        for i in 0..<f.count { z += weight[i] * (f[i] - mean[i]) / scale[i] }
        return 1 / (1 + Foundation.exp(-z))
    }

    public func predict(_ batch: [DetectorInput]) async -> [DetectorResult] {
        batch.map { input in
            guard input.modality == .audio else { return .failure(.skipped, "the builtin audio baseline does not handle \(input.modality.rawValue)") }
            guard let data = FileManager.default.contents(atPath: input.path) else { return .failure(.error, "cannot read \(input.path)") }
            do {
                let p = probability(try WAVAudio.decode([UInt8](data)))
                return .probabilities([1 - p, p])
            } catch {
                return .failure(.error, "cannot decode audio (the builtin baseline reads WAV only): \(error)")
            }
        }
    }

    public func stop() async {}

    public static func safetensors(_ fit: BaselineTrainer.Fit, metadata: [String: String] = [:]) -> [UInt8] {
        var meta = metadata
        meta["features"] = AudioStatistics.featureNames.joined(separator: ",")
        meta["format"] = format
        let d = fit.mean.count
        return Safetensors.encodeF32([
            "mean": ([d], fit.mean.map(Float.init)), "scale": ([d], fit.scale.map(Float.init)),
            "weight": ([d], fit.weight.map(Float.init)), "bias": ([1], [Float(fit.bias)]),
        ], metadata: meta)
    }
}
