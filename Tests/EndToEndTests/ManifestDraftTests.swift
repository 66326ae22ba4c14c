import Foundation
import Testing
import GASTestSupport
@testable import GASRunner

/// The manifest written while a plan is hashed waits in the outputs folder, named after its
/// process, until the runner moves it into the run directory.
@Suite struct ManifestDraftTests {
    /// Only drafts of processes that are no longer running are removed.
    @Test func onlyDraftsOfEndedProcessesAreRemoved() throws {
        let outputs = try TestSupport.temporaryDirectory("manifest-drafts")
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/true")
        try ended.run()
        ended.waitUntilExit()
        let alive = Process()
        alive.executableURL = URL(fileURLWithPath: "/bin/sleep")
        alive.arguments = ["30"]
        try alive.run()
        defer { kill(alive.processIdentifier, SIGKILL); alive.waitUntilExit() }
        let names = [ManifestDraft.prefix + "\(ended.processIdentifier).json", ManifestDraft.prefix + "\(alive.processIdentifier).json",
                     (ManifestDraft.path(in: outputs) as NSString).lastPathComponent, ManifestDraft.prefix + "x.json", "manifest.json"]
        for name in names { try Data("{}".utf8).write(to: URL(fileURLWithPath: outputs + "/" + name)) }
        ManifestDraft.removeAbandoned(in: outputs)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: outputs))
        #expect(left == Set(names.dropFirst()), "left: \(left.sorted())")
    }
}
