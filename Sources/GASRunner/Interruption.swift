import Dispatch
import Foundation
import GASDetectors

/// Ctrl-C and SIGTERM handling for long commands: detector processes are killed (they live in
/// their own process groups), the user is told that committed batches are kept, and the process
/// exits with 130 (SIGINT) or 143 (SIGTERM).
public enum Interruption {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    public static func install(message: @escaping @Sendable () -> String) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                LiveDetectorProcesses.killAll()
                FileHandle.standardError.write(Data(("\n" + message() + "\n").utf8))
                exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }
}
