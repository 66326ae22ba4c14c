import Foundation
import GASCore
import GASData
import GASDetectors
import GASMedia
import GASSpec

/// Fits the builtin image baseline on the samples a spec's sources produce.
public enum BaselineTraining {
    public struct Result: Sendable {
        public var samples: Int
        public var accuracy: Double
    }

    public static func train(specPath: String, outputPath: String, workDirectory: String, modality: String = "image") throws -> Result {
        let loaded = try SpecLoader.load(path: specPath)
        let planned = try RoundPlanner.plan(loaded, outputsOverride: workDirectory)
        let store = MediaStore(root: planned.outputs)
        // One training loop for both baselines: only the decoder/features and the weights format differ.
        let wanted: Modality = modality == "audio" ? .audio : .image
        let featuresOf: ([UInt8]) -> [Double]? = wanted == .audio
            ? { (try? WAVAudio.decode($0)).map(AudioStatistics.features) }
            : { (try? ImageCodec.decode($0)).map(ImageStatistics.features) }
        var features: [[Double]] = [], labels: [Int] = []
        for sample in planned.plan.samples where sample.skipReason == nil && sample.modality == wanted {
            guard let data = FileManager.default.contents(atPath: store.absolutePath(sample.mediaPath)),
                  let f = featuresOf([UInt8](data)) else { continue }
            features.append(f)
            labels.append(sample.label)
        }
        let fit = BaselineTrainer.fit(features: features, labels: labels)
        let metadata = ["trained_on": loaded.spec.round.name, "samples": "\(features.count)"]
        let bytes = wanted == .audio ? BuiltinAudioBaseline.safetensors(fit, metadata: metadata)
                                     : BaselineTrainer.safetensors(fit, metadata: metadata)
        try Data(bytes).write(to: URL(fileURLWithPath: outputPath))
        return Result(samples: features.count, accuracy: fit.trainingAccuracy)
    }
}
