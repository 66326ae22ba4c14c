import Foundation
import GASRunner

/// Progress on stderr: live bars with counts, rate and ETA on a terminal; a plain line per
/// detector at most every few seconds (and at 100%) when stderr is a file or a pipe.
final class TerminalProgress: RunObserver, @unchecked Sendable {
    private let lock = NSLock()
    private let enabled: Bool
    private let interactive: Bool
    private var order: [String] = []
    private var state: [String: (done: Int, total: Int, started: Date, lastPrint: Date)] = [:]
    private var drawnLines = 0
    private var lastStep: (name: String, at: Date)?

    init(enabled: Bool) {
        self.enabled = enabled
        interactive = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    func handle(_ event: RunEvent) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        switch event {
        case let .step(name, done, total):
            let now = Date()
            if interactive {
                write("\r\u{1B}[2K\(name) \(done)/\(total)" + (done == total ? "\n" : ""))
            } else if done == total || lastStep?.name != name || now.timeIntervalSince(lastStep?.at ?? .distantPast) > 5 {
                write("\(name) \(done)/\(total)\n")
                lastStep = (name, now)
            }
        case let .detector(name, done, total):
            let now = Date()
            if state[name] == nil { order.append(name); state[name] = (0, total, now, .distantPast) }
            guard var s = state[name] else { return }
            s.done = done
            s.total = total
            if interactive {
                state[name] = s
                redraw()
            } else if done == total || now.timeIntervalSince(s.lastPrint) >= 3 {
                s.lastPrint = now
                state[name] = s
                write(line(name, s) + "\n")
            } else {
                state[name] = s
            }
        case let .warning(message):
            clear()
            write("warning: \(message)\n")
            if interactive { redraw() }
        case let .note(message):
            clear()
            write("\(message)\n")
            if interactive { redraw() }
        }
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        drawnLines = 0
    }

    private func line(_ name: String, _ s: (done: Int, total: Int, started: Date, lastPrint: Date)) -> String {
        let elapsed = max(Date().timeIntervalSince(s.started), 1e-3)
        let rate = Double(s.done) / elapsed
        let fraction = s.total == 0 ? 1 : Double(s.done) / Double(s.total)
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let eta = rate > 0 && s.done < s.total ? String(format: "ETA %.0fs", Double(s.total - s.done) / rate) : (s.done >= s.total ? "done" : "ETA --")
        let padded = name.count >= 18 ? String(name.prefix(18)) : name + String(repeating: " ", count: 18 - name.count)
        return String(format: "%@ [%@] %d/%d %3.0f%%  %.1f/s  %@", padded, bar, s.done, s.total, fraction * 100, rate, eta)
    }

    private func redraw() {
        var out = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
        for name in order {
            if let s = state[name] { out += "\r\u{1B}[2K" + line(name, s) + "\n" }
        }
        drawnLines = order.count
        write(out)
    }

    private func clear() {
        guard interactive, drawnLines > 0 else { return }
        write("\u{1B}[\(drawnLines)A\u{1B}[J")
        drawnLines = 0
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
