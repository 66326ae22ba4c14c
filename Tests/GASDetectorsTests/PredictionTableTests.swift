import Testing
@testable import GASDetectors

/// The compact predictions table behaves as the dictionary it replaces.
@Suite struct PredictionTableTests {
    @Test func behavesAsADictionary() {
        var reference: [String: [Double]] = [:]
        var table = PredictionTable()
        for i in 0..<5000 {
            let id = i % 7 == 0 ? "id-\(i)-ünïcode" : String(i * 2_654_435_761, radix: 16)
            let probs = Array([0.1, 0.2, 0.7].prefix(1 + i % 3)).map { $0 + Double(i) / 1e6 }
            let inserted = table.insert(id, probs)
            #expect(inserted)
            reference[id] = probs
        }
        let again = table.insert("id-0-ünïcode", [0.5])
        #expect(!again, "a second row for an id is refused")
        #expect(table.count == reference.count)
        for (id, probs) in reference { #expect(table.probabilities(for: id) == probs) }
        #expect(table.probabilities(for: "absent") == nil && !table.contains("") && PredictionTable().probabilities(for: "x") == nil)
        #expect(PredictionTable(reference).count == reference.count)
        var empty = PredictionTable()
        let emptyID = empty.insert("", [1])
        #expect(emptyID && empty.probabilities(for: "") == [1])
    }
}
