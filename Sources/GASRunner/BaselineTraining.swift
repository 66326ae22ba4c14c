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
        var features: [[Double]] = [], labels: [Int] = []
        if modality == "audio" {
            for sample in planned.plan.samples where sample.skipReason == nil && sample.modality == .audio {
                guard let data = FileManager.default.contents(atPath: store.absolutePath(sample.mediaPath)),
                      let audio = try? WAVAudio.decode([UInt8](data)) else { continue }
                features.append(AudioStatistics.features(audio))
                labels.append(sample.label)
            }
            let fit = BaselineTrainer.fit(features: features, labels: labels)
            let bytes = BuiltinAudioBaseline.safetensors(fit, metadata: ["trained_on": loaded.spec.round.name, "samples": "\(features.count)"])
            try Data(bytes).write(to: URL(fileURLWithPath: outputPath))
            return Result(samples: features.count, accuracy: fit.trainingAccuracy)
        }
        for sample in planned.plan.samples where sample.skipReason == nil && sample.modality == .image {
            guard let data = FileManager.default.contents(atPath: store.absolutePath(sample.mediaPath)),
                  let image = try? ImageCodec.decode([UInt8](data)) else { continue }
            features.append(ImageStatistics.features(image))
            labels.append(sample.label)
        }
        let fit = BaselineTrainer.fit(features: features, labels: labels)
        let bytes = BaselineTrainer.safetensors(fit, metadata: ["trained_on": loaded.spec.round.name, "samples": "\(features.count)"])
        try Data(bytes).write(to: URL(fileURLWithPath: outputPath))
        return Result(samples: features.count, accuracy: fit.trainingAccuracy)
    }
}
