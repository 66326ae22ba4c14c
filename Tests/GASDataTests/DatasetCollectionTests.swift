import Foundation
import Testing
import GASCore
@testable import GASData

/// Datasets read side by side hand their samples over whole: the collection's buffers keep no
/// reference to them (one kept made moving the samples into the plan copy all of them, and
/// leaked the originals).
@Suite struct DatasetCollectionTests {
    @Test func concurrentlyKeepsNoReferenceToWhatItReturns() throws {
        var collected = try SampleCollector.DatasetCollection.concurrently(3) { i in
            var c = SampleCollector.DatasetCollection()
            c.samples = (0..<100).map { k in
                PlannedSample(id: "s\(i)-\(k)-\(String(repeating: "x", count: 20))", uri: "u", sha256: "h", byteCount: 1, dataset: "d\(i)",
                              sourceKind: .real, mediaType: .real, modality: .image, seed: 0, format: "png", mediaPath: "m")
            }
            return c
        }
        for i in collected.indices {
            let before = collected[i].samples.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
            let taken = collected[i].samples[0].take()  // a write: copies the whole list if it is shared
            let after = collected[i].samples.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
            #expect(taken?.dataset == "d\(i)")
            #expect(before == after, "dataset \(i): its samples were still referenced after the collection returned")
        }
    }
}
