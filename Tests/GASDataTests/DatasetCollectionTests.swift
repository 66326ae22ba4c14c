import Foundation
import Testing
import GASCore
@testable import GASData

/// Datasets read side by side hand their samples over whole: the collection's buffers keep no
/// reference to them (one kept made moving the samples into the plan copy all of them, and
/// leaked the originals).
@Suite struct DatasetCollectionTests {
    @Test func concurrentlyKeepsNoReferenceToWhatItReturns() throws {
        var collected = Parallel.map(3) { i in
            var c = SampleCollector.DatasetCollection()
            c.samples = SampleCollector.CollectedSamples(count: 100)
            for k in 0..<100 {
                c.samples.slots[k] = PlannedSample(id: "s\(i)-\(k)-\(String(repeating: "x", count: 20))", uri: "u", sha256: "h", byteCount: 1,
                                                   dataset: "d\(i)", sourceKind: .real, mediaType: .real, modality: .image, seed: 0,
                                                   format: "png", mediaPath: "m")
            }
            return c
        }
        for i in collected.indices {
            #expect(isKnownUniquelyReferenced(&collected[i].samples), "dataset \(i): its samples were still referenced after the collection returned")
            let taken = collected[i].samples.take(0)
            #expect(taken?.dataset == "d\(i)")
            #expect(collected[i].samples.take(0) == nil, "a sample taken is moved out, not copied")
            #expect(collected[i].samples.take(99)?.id == "s\(i)-99-\(String(repeating: "x", count: 20))")
        }
    }
}
