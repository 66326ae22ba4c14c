import Foundation
import Testing
import GASCore
@testable import GASSpec

/// `outputs.ledger`: parsed and checked at load time, and kept out of the encoded spec (so out
/// of the manifest and its hash).
@Suite struct LedgerSpecTests {
    @Test func aPostgresLedgerURLIsReadButNotEncoded() throws {
        let f = try SpecFixture()
        let plain = try f.load(validSpec).spec
        let shared = try f.load(validSpec + "\noutputs:\n  directory: runs\n  ledger: \"postgres://gas@db.internal:6543/rounds\"\n").spec
        #expect(shared.outputs.ledgerURL == .postgres(.init(user: "gas", password: nil, host: "db.internal", port: 6543, database: "rounds")))
        #expect(plain.outputs.ledgerURL == nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        #expect(try encoder.encode(shared) == encoder.encode(plain))
        #expect(try String(decoding: encoder.encode(shared), as: UTF8.self).contains("db.internal") == false)
    }

    @Test func aMalformedURLOrAPasswordIsAnErrorAtTheValue() throws {
        let f = try SpecFixture()
        let bad = f.errors(validSpec + "\noutputs:\n  directory: runs\n  ledger: \"postgres://gas@db:port/rounds\"\n")
        let line = validSpec.split(separator: "\n", omittingEmptySubsequences: false).count + 3
        #expect(bad.count == 1)
        #expect(bad.first?.field == "outputs.ledger")
        #expect(bad.first?.line == line)
        #expect(bad.first?.column == 11)
        #expect(bad.first?.message.contains("port 'port'") == true)
        let password = f.errors(validSpec + "\noutputs:\n  ledger: \"postgres://gas:hunter2@db/rounds\"\n")
        #expect(password.first?.message.contains("PGPASSWORD") == true)
        #expect(password.first?.message.contains("hunter2") == false)
        let scheme = f.errors(validSpec + "\noutputs: {ledger: \"mysql://db/x\"}\n")
        #expect(scheme.first?.message.contains("only postgres://") == true)
    }
}
