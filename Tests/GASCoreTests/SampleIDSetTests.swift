import Foundation
import GASCore
import Testing

/// The plan's set of ids taken: a sample is dropped exactly when an earlier one had the same id
/// text, whether the id is kept packed (24 lowercase hex digits) or as text.
@Suite struct SampleIDSetTests {
    static func sample(id: String, dataset: String = "a") -> PlannedSample {
        PlannedSampleTests.sample(id: id, dataset: dataset)
    }

    @Test func aSampleIsNewExactlyWhenNoEarlierOneHadItsIDText() {
        let ids = [
            PlannedSampleTests.id,
            "0123456789abcdef01234568",                 // differs in the low word only
            "1123456789abcdef01234567",                 // in the high word only
            PlannedSampleTests.id.uppercased(),         // text: the same digits, another id
            String(PlannedSampleTests.id.dropLast()),   // 23 digits
            "s1", "",
        ] + (0..<2000).map { String(format: "%024x", $0 &* 2_654_435_761) }  // packed, sharing most of their digits
        var set = SampleIDSet()
        set.reserveCapacity(more: 100)  // less than what comes: it still grows
        for id in ids {
            let new = set.insert(idOf: Self.sample(id: id))
            #expect(new, "\(id) is new")
        }
        #expect(set.count == ids.count)
        // Another sample with a taken id (other fields differing) is not new; the count stays.
        for id in ids {
            let new = set.insert(idOf: Self.sample(id: id, dataset: "b"))
            #expect(!new, "\(id) was taken")
        }
        #expect(set.count == ids.count)
        // Reading the ids as they would be taken from text agrees with a set of strings.
        var strings = Set<String>()
        var again = SampleIDSet()
        for id in ids + ids.reversed() {
            let (new, newText) = (again.insert(idOf: Self.sample(id: id)), strings.insert(id).inserted)
            #expect(new == newText, "\(id)")
        }
    }
}
