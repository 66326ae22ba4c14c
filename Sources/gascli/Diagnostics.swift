import ArgumentParser
import Foundation
import GASSpec

enum Diagnostics {
    /// Prints an error a command did not handle itself and gives its exit code: 2 for a wrong
    /// spec or config (the input must change), 1 for anything else; an `ExitCode` passes through.
    static func exitCode(for error: any Error) -> ExitCode {
        if let code = error as? ExitCode { return code }
        if let errors = error as? SpecErrors {
            printError(errors.description)
            return ExitCode(2)
        }
        printError("\(error)")
        return ExitCode(1)
    }


    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
