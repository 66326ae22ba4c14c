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

    @Test func tablesOfOneFileShareTheirIDsAndKeepTheirOwnEntries() {
        var tables = PredictionTables(count: 3, ids: 4)
        func insert(_ id: String, _ p: Double, _ t: Int) -> Bool {
            var id = id
            return id.withUTF8 { tables.insert(bytes: $0, probability: p, into: t) }
        }
        #expect(insert("a", 0.1, 0) && insert("b", 0.2, 0) && insert("b", 0.3, 1) && insert("c", 0.4, 2))
        #expect(!insert("b", 0.9, 1), "a second row for an id in the same table is refused")
        #expect(insert("a", 0.5, 2), "the same id in another table is its own entry")
        for i in 0..<100 { #expect(insert("x\(i)", Double(i) / 100, i % 3)) }
        let done = tables.finished()
        #expect(done.map(\.count) == [36, 34, 35])
        #expect(done[0].probabilities(for: "a") == [0.1] && done[2].probabilities(for: "a") == [0.5])
        #expect(done[1].probabilities(for: "a") == nil, "an id only other tables have is absent")
        #expect(done[0].probabilities(for: "c") == nil && done[2].probabilities(for: "c") == [0.4])
        #expect(done[1].probabilities(for: "b") == [0.3] && done[1].probabilities(for: "x1") == [0.01])
        #expect(done[0].probabilities(for: "x1") == nil && !done[1].contains("x0") && done[0].contains("x99"))
        // A table taken out and added to stays a table of its own.
        var copy = done[1]
        let added = copy.insert("a", [0.7, 0.3]), again = copy.insert("x1", [0.5])
        #expect(added && !again && copy.probabilities(for: "a") == [0.7, 0.3])
        #expect(done[1].probabilities(for: "a") == nil && done[0].probabilities(for: "a") == [0.1])
    }

    /// Rows in any order (detector by detector with rows missing here and there, sample by sample,
    /// shuffled; ids that are prefixes of others, repeated rows) give the tables a dictionary gives:
    /// the guess of the row's id from the row before never stands in for the id itself.
    @Test func rowsInAnyOrderGiveTheSameTables() {
        let ids = (0..<300).map { i in i % 50 == 0 ? "p\(i / 50)" : i % 50 == 1 ? "p\((i - 1) / 50)x" : String(format: "%06x", (i &* 2_654_435_761) & 0xFF_FFFF) }
        var rows: [(id: String, table: Int, p: Double)] = []
        for t in 0..<3 {
            for (i, id) in ids.enumerated() where (i + t) % 37 != 0 { rows.append((id, t, Double(i * 3 + t) / 1000)) }
        }
        rows.append((ids[5], 1, 0.999))  // a second row for a pair: refused, as by a dictionary
        let bySample = ids.indices.flatMap { i in rows.filter { $0.id == ids[i] } }
        var random = SystemRandomNumberGenerator()
        for (name, order) in [("by detector", rows), ("by sample", bySample), ("shuffled", rows.shuffled(using: &random))] {
            var tables = PredictionTables(count: 3, ids: 10)
            var reference = [[String: Double]](repeating: [:], count: 3)
            for row in order {
                var id = row.id
                let inserted = id.withUTF8 { tables.insert(bytes: $0, probability: row.p, into: row.table) }
                #expect(inserted == (reference[row.table][row.id] == nil), "\(name): \(row)")
                if reference[row.table][row.id] == nil { reference[row.table][row.id] = row.p }
            }
            let done = tables.finished()
            for t in 0..<3 {
                #expect(done[t].count == reference[t].count, "\(name)")
                for id in ids { #expect(done[t].probabilities(for: id) == reference[t][id].map { [$0] }, "\(name): \(id) in table \(t)") }
            }
        }
    }

    /// Tables of one file answer the same through the cursor, whatever order the ids are asked in.
    @Test func lookupsWithACursorAnswerAsPlainLookups() {
        var tables = PredictionTables(count: 2, ids: 100)
        var ids: [String] = []
        for i in 0..<500 {
            var id = String(format: "%08x", (i &* 2_654_435_761) & 0xFFFF_FFFF)
            ids.append(id)
            _ = id.withUTF8 { tables.insert(bytes: $0, probability: Double(i) / 500, into: i % 3 == 0 ? 1 : 0) }
            if i % 5 == 0 { _ = id.withUTF8 { tables.insert(bytes: $0, probability: 0.25, into: 1) } }
        }
        let done = tables.finished()
        let asked = ids.sorted() + ["absent", "00000000x"] + ids.shuffled() + ids.sorted().reversed()
        for table in done {
            var cursor = 0
            for id in asked { #expect(table.probabilities(for: id, cursor: &cursor) == table.probabilities(for: id)) }
        }
        #expect(done[0].probabilities(for: ids[1]) == [1.0 / 500] && done[1].probabilities(for: ids[0]) == [0.0])
        #expect(done[1].probabilities(for: ids[5]) == [0.25] && done[0].probabilities(for: ids[3]) == nil)
    }

    /// The usual file: every detector answers every sample. Its tables keep no per-id entry
    /// numbers or value offsets (the id is the entry), and answer, and take new entries, as any other.
    @Test func tablesWhereEveryIDHasAnEntryAnswerTheSame() {
        var tables = PredictionTables(count: 2, ids: 300)
        var reference = [[String: Double]](repeating: [:], count: 2)
        let ids = (0..<300).map { String(format: "%08x", ($0 &* 2_654_435_761) & 0xFFFF_FFFF) }
        for (i, id) in ids.enumerated() {
            for t in 0..<2 {
                var bytes = id
                _ = bytes.withUTF8 { tables.insert(bytes: $0, probability: Double(i * 2 + t) / 1000, into: t) }
                reference[t][id] = Double(i * 2 + t) / 1000
            }
        }
        let done = tables.finished()
        for t in 0..<2 {
            #expect(done[t].count == ids.count)
            var cursor = 0
            for id in ids.sorted() + ["absent"] + ids {
                #expect(done[t].probabilities(for: id) == reference[t][id].map { [$0] }, "\(id) in table \(t)")
                #expect(done[t].probabilities(for: id, cursor: &cursor) == reference[t][id].map { [$0] })
                #expect(done[t].contains(id) == (reference[t][id] != nil))
            }
        }
        var grown = done[0]
        let added = grown.insert("new", [0.2, 0.8]), again = grown.insert(ids[7], [0.5])
        #expect(added && !again && grown.count == ids.count + 1)
        #expect(grown.probabilities(for: "new") == [0.2, 0.8] && grown.probabilities(for: ids[7]) == [reference[0][ids[7]]!])
        for id in ids { #expect(grown.probabilities(for: id) == [reference[0][id]!]) }
        #expect(done[0].probabilities(for: "new") == nil)
    }
}
