import Foundation
import Testing
import GASTestSupport

/// A short mixed load (valid, bad signatures, replays, oversized, slow clients) against the
/// generator server and the validator webhook on loopback: every valid request takes effect, every
/// bad one is refused with its status, every slow client is cut off. Asserts accounting, not speed.
@Suite(.serialized) struct LoadTests {
    @Test(arguments: ["webhook", "generator"])
    func mixedLoadLosesNothingValidAndRefusesEveryBadRequest(target: String) async throws {
        try await offPool { try Self().body(target: target) }
    }

    func body(target: String) throws {
        let r = try Gascli.run(["generator", "load", "--target", target, "--requests", "400", "--concurrency", "8",
                                "--slow-clients", "3", "--header-timeout", "1", "--duration", "60"])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("every request accounted for"), "\(r.stdout)")
        #expect(r.stdout.contains("valid: 240 accepted, 240 "), "all 240 valid requests accepted and completed: \(r.stdout)")
        #expect(r.stdout.contains(", 0 lost"), "\(r.stdout)")
        #expect(r.stdout.contains("slow clients: 3 of 3 cut off"), "\(r.stdout)")
        #expect(!r.stdout.contains("WRONG"), "\(r.stdout)")
        print(r.stdout)
    }
}
