import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GASRunner

/// Progress on stderr.
///
/// On a terminal: one live line per detector (bar, counts, percent, rate, ETA) plus a total line,
/// redrawn in place twice a second so the rate and ETA stay current between batches, and cut to
/// the terminal's width so a narrow window never scrambles the redraw. When stderr is a file or a
/// pipe (or TERM=dumb): plain lines, one per detector at most every few seconds and at 100%, with no
/// escape codes.
final class TerminalProgress: RunObserver, @unchecked Sendable {
    private struct Detector {
        var done: Int
        var total: Int
        var started: Date
        var finished: Date?
        var lastPrint: Date
    }

    private let lock = NSLock()
    private let enabled: Bool
    private let interactive: Bool
    private var order: [String] = []
    private var state: [String: Detector] = [:]
    private var drawnLines = 0
    private var lastStep: [String: Date] = [:]
    private var began: Date?
    private var timer: DispatchSourceTimer?
    private var stopped = false

    init(enabled: Bool, interactive: Bool? = nil) {
        self.enabled = enabled
        self.interactive = interactive ?? (isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb")
    }

    func handle(_ event: RunEvent) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        guard !stopped else { return }
        switch event {
        case let .step(name, done, total):
            // Steps may run side by side (datasets are read on every core): each is paced on its own.
            let now = Date()
            let last = lastStep[name]
            if interactive {
                guard done == total || last == nil || now.timeIntervalSince(last ?? now) >= 0.1 else { return }
                lastStep[name] = now
                write("\r\u{1B}[2K" + fit("\(name) \(done)/\(total)") + (done == total ? "\n" : ""))
            } else if done == total || last == nil || now.timeIntervalSince(last ?? now) > 5 {
                write("\(name) \(done)/\(total)\n")
                lastStep[name] = now
            }
        case let .detector(name, done, total):
            let now = Date()
            if began == nil { began = now; startTicking() }
            if state[name] == nil {
                order.append(name)
                state[name] = Detector(done: done, total: total, started: now, finished: nil, lastPrint: .distantPast)
            }
            guard var s = state[name] else { return }
            let progressed = done != s.done
            s.done = done
            s.total = total
            if done >= total && s.finished == nil { s.finished = now }
            if interactive {
                state[name] = s
                redraw()
            } else if (done >= total && progressed) || (s.lastPrint == .distantPast && done >= total)
                        || (done < total && now.timeIntervalSince(s.lastPrint) >= 3) {
                s.lastPrint = now
                state[name] = s
                write(plainLine(name, s, now: now) + "\n")
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

    /// Stops the ticker and leaves the last drawing on screen.
    func finish() {
        lock.lock(); defer { lock.unlock() }
        if interactive && drawnLines > 0 { redraw() }
        stopped = true
        timer?.cancel()
        timer = nil
        drawnLines = 0
    }

    // MARK: Drawing

    private func startTicking() {
        guard interactive, timer == nil else { return }
        let t = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        t.schedule(deadline: .now() + 0.5, repeating: 0.5)
        t.setEventHandler { [weak self] in
            guard let self else { return }
            self.lock.lock(); defer { self.lock.unlock() }
            if !self.stopped && self.drawnLines > 0 && self.state.values.contains(where: { $0.finished == nil }) { self.redraw() }
        }
        t.resume()
        timer = t
    }

    private var nameWidth: Int { min(max(order.map(\.count).max() ?? 8, 8), 28) }

    private func padded(_ name: String) -> String {
        let w = nameWidth
        return name.count > w ? String(name.prefix(w - 1)) + "…" : name + String(repeating: " ", count: w - name.count)
    }

    private func figures(_ s: Detector, now: Date) -> (fraction: Double, rate: Double, eta: String) {
        let end = s.finished ?? now
        let elapsed = max(end.timeIntervalSince(s.started), 1e-3)
        let rate = Double(s.done) / elapsed
        let fraction = s.total == 0 ? 1 : Double(s.done) / Double(s.total)
        let eta: String
        if s.done >= s.total {
            eta = "done in " + Self.duration(elapsed)
        } else if rate > 0 {
            eta = "ETA " + Self.duration(Double(s.total - s.done) / rate)
        } else {
            eta = "ETA --"
        }
        return (fraction, rate, eta)
    }

    private func line(_ name: String, _ s: Detector, now: Date) -> String {
        let f = figures(s, now: now)
        // The bar shrinks first when the terminal is narrow.
        let width = max(8, min(24, Self.terminalColumns() - nameWidth - 46))
        let filled = min(Int(f.fraction * Double(width)), width)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let counts = "\(s.done)/\(s.total)"
        let countWidth = 2 * String(s.total).count + 1
        return "\(padded(name)) [\(bar)] \(String(repeating: " ", count: max(0, countWidth - counts.count)))\(counts) "
            + String(format: "%3.0f%%  %6.1f/s  ", f.fraction * 100, f.rate) + f.eta
    }

    /// The same figures without the bar or padding, for logs.
    private func plainLine(_ name: String, _ s: Detector, now: Date) -> String {
        let f = figures(s, now: now)
        return "\(name) \(s.done)/\(s.total) " + String(format: "%.0f%% %.1f/s ", f.fraction * 100, f.rate) + f.eta
    }

    private func totalLine(now: Date) -> String {
        let done = state.values.reduce(0) { $0 + $1.done }, total = state.values.reduce(0) { $0 + $1.total }
        let elapsed = now.timeIntervalSince(began ?? now)
        // Detectors run side by side: the run ends with the slowest one.
        let remaining = state.values.compactMap { s -> Double? in
            guard s.done < s.total else { return 0 }
            let rate = Double(s.done) / max(now.timeIntervalSince(s.started), 1e-3)
            return rate > 0 ? Double(s.total - s.done) / rate : nil
        }
        let eta = remaining.count == state.count ? "ETA " + Self.duration(remaining.max() ?? 0) : "ETA --"
        let allDone = state.values.allSatisfy { $0.done >= $0.total }
        return "\(padded("total")) \(done)/\(total) outcomes · \(Self.duration(elapsed)) elapsed" + (allDone ? "" : " · " + eta)
    }

    private func redraw() {
        let now = Date()
        var out = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
        var lines = order.compactMap { name in state[name].map { line(name, $0, now: now) } }
        if order.count > 1 { lines.append(totalLine(now: now)) }
        for l in lines { out += "\r\u{1B}[2K" + fit(l) + "\n" }
        drawnLines = lines.count
        write(out)
    }

    private func clear() {
        guard interactive, drawnLines > 0 else { return }
        write("\u{1B}[\(drawnLines)A\u{1B}[J")
        drawnLines = 0
    }

    /// Cuts a line to the terminal's width (a wrapped line would break the cursor-up redraw).
    private func fit(_ text: String) -> String {
        let columns = Self.terminalColumns()
        guard columns > 4, text.count >= columns else { return text }
        return String(text.prefix(columns - 2)) + "…"
    }

    static func terminalColumns() -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 80
    }

    /// 7.4s, 42s, 3m05s, 1h02m.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--" }
        if seconds < 10 { return String(format: "%.1fs", seconds) }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
