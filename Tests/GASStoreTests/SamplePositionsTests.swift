import Testing
import GASCore
@testable import GASStore

/// The matcher behind reading outcomes back (resume, scoring a resumed run, audits): every id
/// finds a position holding it, whatever order the rows come in (it guesses the neighbour of the
/// last one found first), and an id not in the plan finds none; with the execution order worked
/// out from the ids or given by the caller in another order.
@Suite struct SamplePositionsTests {
    /// Checks every id, in byte order (a scan's), in a scrambled order and absent ones.
    func check(_ ids: [String], absent: [String], executionOrder: [Int]? = nil) {
        let list = SampleIDs(ids)
        var matcher = SamplePositions(list, executionOrder: executionOrder)
        func position(_ id: String) -> Int? {
            var id = id
            return id.withUTF8 { matcher.position(of: $0) }
        }
        let byBytes = ids.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var scrambled = ids
        var random = SplitMix64(seed: 7)
        scrambled.shuffle(using: &random)
        for id in byBytes + scrambled + byBytes.reversed() {
            let found = position(id)
            #expect(found.map { Array(ids[$0].utf8) == Array(id.utf8) } == true, "\(id)")
        }
        for id in absent { #expect(position(id) == nil, "\(id)") }
    }

    @Test func hexIdsInAnyOrderOfRows() {
        var random = SplitMix64(seed: 34)
        var ids = (0..<2000).map { _ in String((0..<24).map { _ in "0123456789abcdef".randomElement(using: &random)! }) }
        ids += ids.prefix(50)  // repeated ids: the first position found answers for each
        ids.shuffle(using: &random)
        check(ids, absent: ["", "0", "ffffffffffffffffffffffffff", "g00000000000000000000000", ids[0] + "0", String(ids[1].dropLast())])
    }

    /// Ids that are not hex, and ids whose `String` order is not their bytes' ("e\u{301}" is "é"
    /// to `String`, after "f"; its bytes sort before).
    @Test func otherIds() {
        let ids = ["f", "e\u{301}", "\u{E9}", "a", "e\u{301}x", "zz", "f", "s1", ""]
        check(ids, absent: ["e", "b", "\u{E9}x", "ee", "s"])
    }

    /// A caller's execution order that is not byte order (the plan's own order, reversed): the same answers.
    @Test func anExecutionOrderGivenInAnotherOrder() {
        let ids = ["f", "e\u{301}", "\u{E9}", "a", "e\u{301}x", "zz", "f", "s1"]
        check(ids, absent: ["e", "b", "\u{E9}x", "ee", "s", ""], executionOrder: Array(ids.indices))
        var random = SplitMix64(seed: 9)
        let hex = (0..<500).map { _ in String((0..<24).map { _ in "0123456789abcdef".randomElement(using: &random)! }) }
        check(hex, absent: ["0", String(hex[0].dropLast())], executionOrder: Array(hex.indices.reversed()))
    }
}
