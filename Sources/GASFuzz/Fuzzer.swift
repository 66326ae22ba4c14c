import Foundation

/// What one input did to a target.
public enum FuzzOutcome: Sendable, Equatable {
    /// The input was read (it may still be semantically odd, but the reader accepted it).
    case accepted
    /// The reader refused the input with its module's typed error; `message` is what a user sees.
    case rejected(String)
    /// The reader threw something that is not its typed error: a finding.
    case untypedError(String)
}

/// One reader under attack. `run` must not throw: it classifies what the reader did.
public struct FuzzTarget: Sendable {
    public let name: String
    /// What the target reads, for reports.
    public let summary: String
    /// Byte strings the mutator splices in (keywords, magic numbers, boundary numbers).
    public let dictionary: [[UInt8]]
    /// Seeds made in code (signed requests need the target's key), used with the committed ones.
    public let generatedSeeds: @Sendable () -> [[UInt8]]
    public let run: @Sendable ([UInt8]) -> FuzzOutcome

    /// Scalars below 256 stand for one byte each ("\u{89}PNG" is the PNG magic), others are UTF-8.
    static func bytes(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        for scalar in text.unicodeScalars {
            if scalar.value < 256 { out.append(UInt8(scalar.value)) } else { out += Array(String(scalar).utf8) }
        }
        return out
    }

    public init(name: String, summary: String, dictionary: [String] = [], generatedSeeds: @escaping @Sendable () -> [[UInt8]] = { [] },
                run: @escaping @Sendable ([UInt8]) -> FuzzOutcome) {
        self.name = name
        self.generatedSeeds = generatedSeeds
        self.summary = summary
        self.dictionary = dictionary.map(Self.bytes)
        self.run = run
    }
}

/// Something wrong the fuzzer saw, with the input that caused it.
public struct FuzzFinding: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case untypedError = "untyped error", slow = "slow input", emptyMessage = "empty rejection message" }
    public var kind: Kind
    public var detail: String
    public var input: [UInt8]

    public var description: String { "\(kind.rawValue): \(detail) (\(input.count)-byte input)" }
}

/// What a fuzzing session did.
public struct FuzzReport: Sendable {
    public var target: String
    public var executions = 0
    public var accepted = 0
    public var rejected = 0
    /// Distinct rejection messages (digits blanked), a rough measure of how many checks were reached.
    public var distinctRejections = 0
    /// The corpus at the end: seeds plus inputs that reached a new rejection.
    public var corpusSize = 0
    public var slowestSeconds = 0.0
    public var seconds = 0.0
    public var findings: [FuzzFinding] = []
    /// Growth of the process's peak resident memory during the session.
    public var peakMemoryGrowthBytes = 0
}

/// The process's peak resident set size so far (getrusage; kilobytes on Linux).
public func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Int(usage.ru_maxrss) * 1024
}

/// A deterministic mutational fuzzer: starts from seed inputs and applies seeded, structure-aware
/// mutations (byte edits, splices, dictionary tokens, boundary integers, repeated chunks).
///
/// Why this rather than libFuzzer: it runs inside `swift test` on any build (no sanitizer build of
/// the whole dependency tree), reproduces exactly from its seed, and its feedback needs no
/// instrumentation: an input that draws a rejection message not seen before joins the corpus, so
/// mutations go on from every check reached.
public struct Fuzzer {
    public var target: FuzzTarget
    public var maxInputBytes: Int
    /// An input slower than this is a finding (a hang stops the process: see `Watchdog`).
    public var slowSeconds: Double
    var random: SplitMix64
    var corpus: [[UInt8]]
    var seenRejections: Set<String> = []

    /// CPU seconds used by the calling thread.
    public static func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    public init(target: FuzzTarget, seeds: [[UInt8]], seed: UInt64, maxInputBytes: Int = 64 << 10, slowSeconds: Double = 2) {
        self.target = target
        self.random = SplitMix64(seed: seed)
        self.corpus = seeds.isEmpty ? [[]] : seeds
        self.maxInputBytes = maxInputBytes
        self.slowSeconds = slowSeconds
    }

    /// Runs every seed once, then mutated inputs until `executions` inputs or `seconds` have passed.
    /// `watchdog`, when given, is told about each input so a hang can be reported with its input.
    public mutating func run(executions: Int = .max, seconds: Double = .infinity, watchdog: Watchdog? = nil,
                             beforeEach: (([UInt8]) -> Void)? = nil) -> FuzzReport {
        var report = FuzzReport(target: target.name)
        let start = Date()
        let peakBefore = peakResidentBytes()
        let seeds = corpus
        var index = 0
        while report.executions < executions {
            if report.executions % 16 == 0, Date().timeIntervalSince(start) > seconds { break }
            let input: [UInt8]
            if index < seeds.count {
                input = seeds[index]
                index += 1
            } else {
                input = mutate()
            }
            watchdog?.begin(input)
            beforeEach?(input)
            // CPU time of this thread, not wall time: a slow input is one that makes the reader
            // work, not one that waited while other processes had the cores.
            let t0 = Self.threadCPUSeconds()
            let outcome = target.run(input)
            let elapsed = Self.threadCPUSeconds() - t0
            watchdog?.end()
            report.executions += 1
            report.slowestSeconds = max(report.slowestSeconds, elapsed)
            if elapsed > slowSeconds {
                report.findings.append(FuzzFinding(kind: .slow, detail: String(format: "%.2f s", elapsed), input: input))
            }
            switch outcome {
            case .accepted:
                report.accepted += 1
            case let .rejected(message):
                report.rejected += 1
                if message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    report.findings.append(FuzzFinding(kind: .emptyMessage, detail: "", input: input))
                }
                let key = Self.shape(of: message)
                if seenRejections.insert(key).inserted, corpus.count < 4096 { corpus.append(input) }
            case let .untypedError(description):
                report.findings.append(FuzzFinding(kind: .untypedError, detail: description, input: input))
            }
        }
        report.distinctRejections = seenRejections.count
        report.corpusSize = corpus.count
        report.seconds = Date().timeIntervalSince(start)
        report.peakMemoryGrowthBytes = peakResidentBytes() - peakBefore
        return report
    }

    /// A rejection message with numbers and quoted parts blanked, so "needs 16" and "needs 24"
    /// count as one check reached.
    static func shape(of message: String) -> String {
        var out = ""
        var quote: Character? = nil
        for c in message.prefix(100) {
            if let q = quote {
                if c == q { quote = nil; out.append(c) }
                continue
            }
            if c == "'" || c == "\"" { quote = c; out.append(c); continue }
            if c.isNumber { if out.last != "#" { out.append("#") } } else { out.append(c) }
        }
        return out
    }

    // MARK: Mutations

    mutating func mutate() -> [UInt8] {
        var input = corpus[random.below(corpus.count)]
        let rounds = 1 + random.below(4)
        for _ in 0..<rounds { mutateOnce(&input) }
        if input.count > maxInputBytes { input.removeLast(input.count - maxInputBytes) }
        return input
    }

    mutating func mutateOnce(_ input: inout [UInt8]) {
        let position = input.isEmpty ? 0 : random.below(input.count + 1)
        switch random.below(12) {
        case 0 where !input.isEmpty:  // flip a bit
            let i = random.below(input.count)
            input[i] ^= UInt8(1) << UInt8(random.below(8))
        case 1 where !input.isEmpty:  // random byte
            input[random.below(input.count)] = UInt8(truncatingIfNeeded: random.next())
        case 2 where !input.isEmpty:  // delete a run
            let i = random.below(input.count)
            let n = min(input.count - i, 1 + random.below(16))
            input.removeSubrange(i..<(i + n))
        case 3:  // insert random bytes
            let n = 1 + random.below(8)
            input.insert(contentsOf: (0..<n).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: position)
        case 4 where !target.dictionary.isEmpty:  // insert a dictionary token
            input.insert(contentsOf: target.dictionary[random.below(target.dictionary.count)], at: position)
        case 5 where !target.dictionary.isEmpty && !input.isEmpty:  // overwrite with a dictionary token
            let token = target.dictionary[random.below(target.dictionary.count)]
            let i = random.below(input.count)
            let n = min(token.count, input.count - i)
            input.replaceSubrange(i..<(i + n), with: token)
        case 6 where input.count >= 4:  // boundary integer, little or big endian, 1/2/4/8 bytes
            let width = [1, 2, 4, 8][random.below(4)]
            let values: [UInt64] = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF, 1 << 32, .max, .max / 2, UInt64(input.count)]
            var v = values[random.below(values.count)]
            if random.below(2) == 0 { v = v.byteSwapped >> (64 - 8 * UInt64(width)) }
            let i = random.below(max(1, input.count - width + 1))
            for k in 0..<min(width, input.count - i) { input[i + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
        case 7 where !input.isEmpty:  // duplicate a chunk many times (nesting, repetition, bombs)
            let i = random.below(input.count)
            let n = min(input.count - i, 1 + random.below(32))
            let chunk = Array(input[i..<(i + n)])
            let times = 1 + random.below(random.below(2) == 0 ? 4 : 256)
            var insert: [UInt8] = []
            for _ in 0..<times where insert.count + input.count < maxInputBytes { insert += chunk }
            input.insert(contentsOf: insert, at: i)
        case 8 where corpus.count > 1:  // splice with another corpus entry
            let other = corpus[random.below(corpus.count)]
            guard !other.isEmpty else { return }
            let from = random.below(other.count)
            input = Array(input[..<position]) + other[from...]
        case 9 where input.count > 1:  // truncate
            input.removeLast(1 + random.below(input.count - 1))
        case 10 where !input.isEmpty:  // ASCII digit run: a number grows or changes
            let i = random.below(input.count)
            let digits = Array(String(random.next() >> UInt64(random.below(64))).utf8)
            input.insert(contentsOf: digits, at: i)
        default:  // copy a chunk over another place
            guard input.count > 2 else { input.append(UInt8(truncatingIfNeeded: random.next())); return }
            let a = random.below(input.count), b = random.below(input.count)
            let n = min(input.count - max(a, b), 1 + random.below(16))
            let chunk = Array(input[a..<(a + n)])
            input.replaceSubrange(b..<(b + n), with: chunk)
        }
    }
}

/// SplitMix64: small, fast, and the same sequence on every machine.
public struct SplitMix64: Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
}

/// Stops the process when one input runs longer than `limit`, after writing that input to
/// `path` and saying so on stderr: a hang becomes a reproducible finding instead of a stuck run.
public final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var current: [UInt8]? = nil
    private var started = Date()
    private var generation = 0
    public let limit: Double
    public let path: String
    public let target: String

    public init(limit: Double, path: String, target: String) {
        self.limit = limit
        self.path = path
        self.target = target
        let thread = Thread { [weak self] in
            while let self {
                Thread.sleep(forTimeInterval: 0.25)
                self.check()
            }
        }
        thread.start()
    }

    func begin(_ input: [UInt8]) { lock.withLock { current = input; started = Date(); generation += 1 } }
    func end() { lock.withLock { current = nil } }

    private func check() {
        let hung: [UInt8]? = lock.withLock {
            guard let current, Date().timeIntervalSince(started) > limit else { return nil }
            return current
        }
        guard let hung else { return }
        try? Data(hung).write(to: URL(fileURLWithPath: path))
        FileHandle.standardError.write(Data("gas-fuzz: \(target): one input ran longer than \(limit) s (a hang); it is saved in \(path)\n".utf8))
        exit(3)
    }
}

/// The committed inputs of a target: `<root>/<target>/seeds/*` (starting points for mutation)
/// and `<root>/<target>/regressions/*` (inputs that once found a bug; each must stay handled).
public enum FuzzCorpus {
    public struct Input: Sendable {
        public var name: String
        public var bytes: [UInt8]
    }

    public static func load(target: String, root: String) -> (seeds: [[UInt8]], regressions: [Input]) {
        func files(_ sub: String) -> [Input] {
            let dir = "\(root)/\(target)/\(sub)"
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            return names.sorted().compactMap { name in
                FileManager.default.contents(atPath: dir + "/" + name).map { Input(name: name, bytes: [UInt8]($0)) }
            }
        }
        let generated = FuzzTargets.named(target)?.generatedSeeds() ?? []
        return (files("seeds").map(\.bytes) + generated, files("regressions"))
    }
}
