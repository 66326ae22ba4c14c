import Foundation
import GASStore

/// `ledger.json` in the directory of a run whose outcomes are in a shared PostgreSQL ledger
/// (there is no run.sqlite then): which database and which run, without the password, so the
/// commands that start from a run directory can say where its ledger is.
public struct SharedLedgerPointer: Codable, Sendable, Equatable {
    public static let fileName = "ledger.json"

    public var backend: String = "postgresql"
    /// The ledger URL without its password.
    public var url: String
    public var runID: String

    public init(url: String, runID: String) {
        self.url = url
        self.runID = runID
    }

    enum CodingKeys: String, CodingKey {
        case backend, url
        case runID = "run_id"
    }

    func encoded() throws -> Data {
        try JSONEncoder.sorted.encode(self) + Data("\n".utf8)
    }

    /// The pointer in `directory`, or nil when the run keeps its own run.sqlite.
    public static func read(directory: String) -> SharedLedgerPointer? {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(SharedLedgerPointer.self, from: data)
    }
}
