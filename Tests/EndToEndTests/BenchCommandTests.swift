import Foundation
import Testing
import GASTestSupport

/// `gascli bench e2e` through the real binary, at a tiny scale: what it times, not how fast.
@Suite struct BenchCommandTests {
    @Test func e2eReportsTheMedianOfThreeRunsEachFromNothing() async throws {
        try await offPool { try Self().e2eReportsTheMedianOfThreeRunsEachFromNothingBody() }
    }

    func e2eReportsTheMedianOfThreeRunsEachFromNothingBody() throws {
        let work = try TestSupport.temporaryDirectory("bench-e2e")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let r = try Gascli.run(["bench", "e2e", "--scale", "0.002", "--work", work, "--keep"])
        #expect(r.status == 0, "stderr: \(r.stderr.suffix(2000))")
        #expect(r.stderr.contains("gascli run 1 of 3") && r.stderr.contains("gascli run 3 of 3"), "\(r.stderr.suffix(2000))")
        // The three times, fastest first; the table's figure is the middle one.
        let note = try #require(r.stdout.split(separator: "\n").first { $0.contains("median of 3 runs: ") }, "\(r.stdout)")
        let times = note.components(separatedBy: "median of 3 runs: ")[1].dropLast(2).components(separatedBy: ", ").compactMap(Double.init)
        #expect(times.count == 3 && times == times.sorted(), "\(note)")
        #expect(r.stdout.contains("8,000 outcomes committed (expected 8,000)"), "\(r.stdout)")
        // Each run planned into a folder of its own (media store included); only the last is kept.
        let folders = try FileManager.default.contentsOfDirectory(atPath: work + "/e2e").filter { $0.hasPrefix("runs") }
        #expect(folders == ["runs-3"])
    }
}
