@testable import GASCore
import Testing

/// The pool behind `PlannedSample`'s dataset and format numbers.
@Suite struct NamePoolTests {
    @Test func aNameKeepsItsNumberAndReadsBackByteForByte() {
        var pool = NamePool(capacity: 10)
        let composed = "caf\u{E9}", decomposed = "cafe\u{301}"
        #expect(composed == decomposed)  // equal to Swift, but not the same bytes
        let a = pool.code(composed), b = pool.code(decomposed), c = pool.code("png")
        #expect(Set([a, b, c]).count == 3)
        #expect(pool.code(decomposed) == b && pool.code(composed) == a && pool.code("png") == c)
        #expect(Array((pool.name(a) ?? "").utf8) == Array(composed.utf8))
        #expect(Array((pool.name(b) ?? "").utf8) == Array(decomposed.utf8))
        #expect(pool.count == 3)
        #expect(pool.name(NamePool.unpooled) == nil && pool.name(7) == nil)
    }

    @Test func aFullPoolAnswersUnpooledAndKeepsWhatItHas() {
        var pool = NamePool(capacity: 2)
        let a = pool.code("a"), b = pool.code("b")
        #expect(pool.code("c") == NamePool.unpooled)
        #expect(pool.code("a") == a && pool.code("b") == b)
        #expect(pool.count == 2 && pool.name(a) == "a" && pool.name(b) == "b")
    }

    /// More names in turn than the pool tries first: each still gets its own number back.
    @Test func namesInTurnKeepTheirNumbers() {
        var pool = NamePool(capacity: 100)
        let names = (0..<9).map { "name-\($0)" } + ["caf\u{E9}", "cafe\u{301}"]
        let codes = names.map { pool.code($0) }
        #expect(Set(codes).count == names.count)
        for round in 0..<3 {
            for (name, code) in zip(names, codes).shuffled() { #expect(pool.code(name) == code, "round \(round)") }
            // The two spellings of café one after the other: the one tried first is not taken for the other.
            #expect(pool.code("caf\u{E9}") == codes[9] && pool.code("cafe\u{301}") == codes[10] && pool.code("caf\u{E9}") == codes[9])
        }
        #expect(pool.count == names.count)  // asking again added nothing
    }
}
