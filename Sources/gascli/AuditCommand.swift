import ArgumentParser
import Foundation
import GASRunner

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Pack a past run into an audit bundle, or check a bundle on any machine.",
        discussion: """
            Example:
              gascli audit export runs/quickstart-20261126-010318-5ed742f7 -o quickstart.tar.gz
              gascli audit verify quickstart.tar.gz
            """,
        subcommands: [Export.self, Verify.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a run's manifest, spec, ledger, Parquet and JSON results (and optionally its media) to one tar.gz.",
            discussion: """
                Example:
                  gascli audit export runs/quickstart-20250101-120000-89b8a1c6 -o q.tar.gz
                  gascli audit export <run-id> --outputs /tmp/runs -o q.tar.gz --with-media

                RUN is a run directory, or a run id under --outputs. The same run always gives the same bytes, so the printed sha256 identifies the bundle.
                Exit status: 0 when written, 1 when the export failed.
                """)

        @Argument(help: ArgumentHelp("Run directory, or run id under --outputs.", valueName: "run"))
        var runDirectory: String

        @Option(name: .shortAndLong, help: "Bundle file to write (.tar.gz).")
        var output: String

        @Option(help: "Folder that holds run directories, for a run given by id (default: runs).")
        var outputs: String?

        @Flag(help: "Also pack each sample's media (media/ab/<sha256>.<ext>), so verify can hash the bytes.")
        var withMedia = false

        func run() throws {
            do {
                let summary = try AuditBundle.export(run: runDirectory, outputs: outputs, to: output, withMedia: withMedia)
                print("wrote \(summary.bundlePath) (run \(summary.runID), \(summary.bundleBytes) bytes)")
                let width = summary.files.map(\.path.count).max() ?? 0
                for file in summary.files {
                    print("  \(file.path.padding(toLength: width, withPad: " ", startingAt: 0))  \(file.bytes) bytes")
                }
                if withMedia {
                    print("  \("media/".padding(toLength: width, withPad: " ", startingAt: 0))  \(summary.mediaFiles) files, \(summary.mediaBytes) bytes")
                }
                print("sha256 \(summary.bundleSHA256)  \(summary.bundlePath)")
            } catch {
                Diagnostics.printError("\(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an audit bundle: every hash, and every metric re-derived from the predictions.",
            discussion: """
                Example:
                  gascli audit verify q.tar.gz

                Needs nothing but the bundle. Prints one PASS/FAIL line per check, then the verdict.
                Exit status: 0 when every check passes, 1 when one fails, 2 when the file is not a readable audit bundle.
                """)

        @Argument(help: "The bundle (.tar.gz) to check.")
        var bundle: String

        func run() throws {
            let report: AuditReport
            do {
                report = try AuditBundle.verify(bundle: bundle)
            } catch {
                Diagnostics.printError(error.description)
                throw ExitCode(error.isUnreadableBundle ? 2 : 1)
            }
            print("bundle \(report.bundle)")
            print("sha256 \(report.bundleSHA256)")
            print("run    \(report.runID)")
            let width = report.items.map(\.name.count).max() ?? 0
            for item in report.items {
                print("\(item.status.rawValue)  \(item.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(item.detail)")
            }
            let failed = report.items.filter { $0.status == .fail }.count
            let skipped = report.items.filter { $0.status == .skip }.count
            if failed == 0 {
                print("PASS  \(report.items.count - skipped) checks passed" + (skipped > 0 ? ", \(skipped) skipped" : ""))
            } else {
                print("FAIL  \(failed) of \(report.items.count) checks failed")
                throw ExitCode(1)
            }
        }
    }
}
