import Foundation
import GASCore

#if canImport(Glibc)
import Glibc
#endif

/// What a detector's stdout goes through in the runner, without the process: the bytes are split
/// into lines by the same `LineChannel` (same line limit), every non-blank line is decoded by
/// `DetectorProtocol`, and each response is matched to a batch of `ids` with its probabilities
/// validated. Public so the fuzzer drives exactly the runner's code with hostile replies.
public enum DetectorReplyReader {
    public struct Summary: Sendable, Equatable {
        public var hellos = 0
        public var responses = 0
        /// Results that became probabilities; the others failed per item with a reason.
        public var probabilities = 0
        public var itemFailures = 0
        public var warnings: [String] = []
    }

    /// Reads `stream` as a detector's stdout. Throws the first protocol violation, worded as
    /// the runner words it.
    public static func read(_ stream: [UInt8], ids: [String], maxLineBytes: Int = 1 << 20) throws(DetectorReplyError) -> Summary {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw DetectorReplyError(message: "pipe() failed: errno \(errno)") }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        // A writer thread, so streams larger than the pipe buffer do not block.
        let writer = Thread {
            stream.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(writeEnd, raw.baseAddress! + offset, raw.count - offset)
                    if n <= 0 { break }
                    offset += n
                }
            }
            close(writeEnd)
        }
        writer.start()
        // Queue everything: the consumer below only starts after EOF.
        let channel = LineChannel(maxLineBytes: maxLineBytes, maxQueuedBytes: stream.count * 80 + (1 << 20))
        channel.runReader(fd: readEnd)
        let items = ids.enumerated().map { DetectorInput(sampleID: $1, path: "/dev/null", modality: .image, seed: UInt64($0)) }
        var summary = Summary()
        while let event = channel.pollNext() {
            switch event {
            case let .line(line):
                if DetectorProtocol.isBlank(line) { continue }
                let message: DetectorProtocol.Message
                do {
                    message = try DetectorProtocol.decode(line)
                } catch {
                    throw DetectorReplyError(message: error.description)
                }
                switch message {
                case .hello:
                    summary.hellos += 1
                case let .response(batch, results):
                    summary.responses += 1
                    let (assigned, warnings) = DetectorProtocol.assign(results: results, to: items, batch: batch)
                    for result in assigned {
                        if case .probabilities = result { summary.probabilities += 1 } else { summary.itemFailures += 1 }
                    }
                    summary.warnings += warnings
                }
            case let .overflow(limit, prefix):
                throw DetectorReplyError(message: ProtocolViolation("stdout line longer than \(limit) bytes (maxLineBytes)", line: prefix).description)
            case let .readError(code):
                throw DetectorReplyError(message: "reading the detector's stdout failed: errno \(code)")
            case .eof:
                break
            }
        }
        return summary
    }
}

/// A reply the runner refuses, with the message it logs for the batch.
public struct DetectorReplyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
