/// When a schedule fires. Pure arithmetic over block numbers and Unix seconds (UTC).
///
/// Block cadences use absolute chain block numbers like GAS's `@on_block_interval`: an occurrence
/// is every block `b` with `b % interval == 0`. Interval cadences are aligned to the Unix epoch
/// (`every: 30m` fires at :00 and :30 UTC). Cron cadences fire at the matching minutes (UTC).
public enum Cadence: Sendable, Equatable, CustomStringConvertible {
    case everyBlocks(Int64)
    case interval(seconds: Int64)
    case cron(CronExpression)

    public var isBlockBased: Bool {
        if case .everyBlocks = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case let .everyBlocks(n): "every \(n) blocks"
        case let .interval(s): "every \(Cadence.formatSeconds(s))"
        case let .cron(c): "cron '\(c.source)'"
        }
    }

    static func formatSeconds(_ s: Int64) -> String {
        if s % 3600 == 0 { return "\(s / 3600)h" }
        if s % 60 == 0 { return "\(s / 60)m" }
        return "\(s)s"
    }

    /// The occurrence keys in `(after, upTo]`, oldest first: block numbers for block cadences,
    /// Unix seconds for the others. At most `limit` keys (the newest ones) are returned, with the
    /// number of older keys that were left out.
    public func occurrences(after: Int64, upTo: Int64, limit: Int = 10_000) -> (keys: [Int64], omitted: Int64) {
        guard upTo > after else { return ([], 0) }
        switch self {
        case let .everyBlocks(n), let .interval(seconds: n):
            let first = Cadence.floorDiv(after, n) * n + n
            guard first <= upTo else { return ([], 0) }
            let last = Cadence.floorDiv(upTo, n) * n
            let count = (last - first) / n + 1
            let kept = min(count, Int64(limit))
            let start = last - (kept - 1) * n
            return (stride(from: start, through: last, by: Int(n)).map { $0 }, count - kept)
        case let .cron(expr):
            var keys: [Int64] = []
            var omitted: Int64 = 0
            var t = expr.next(after: after)
            while let k = t, k <= upTo {
                keys.append(k)
                if keys.count > limit { keys.removeFirst(); omitted += 1 }
                t = expr.next(after: k)
            }
            return (keys, omitted)
        }
    }

    /// The first occurrence key after `key`.
    public func next(after key: Int64) -> Int64? {
        switch self {
        case let .everyBlocks(n), let .interval(seconds: n): Cadence.floorDiv(key, n) * n + n
        case let .cron(expr): expr.next(after: key)
        }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

/// A five-field cron expression (minute hour day-of-month month day-of-week), evaluated in UTC.
/// Fields take `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, and lists `a,b`. Day of week
/// is 0-6 from Sunday (7 is Sunday too). When both day fields are restricted, either may match
/// (the classic cron rule).
public struct CronExpression: Sendable, Equatable {
    public let source: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public init(_ text: String) throws {
        source = text
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(description: "expected 5 fields (minute hour day-of-month month day-of-week), found \(fields.count)")
        }
        minutes = try Self.field(fields[0], "minute", 0...59)
        hours = try Self.field(fields[1], "hour", 0...23)
        days = try Self.field(fields[2], "day-of-month", 1...31)
        months = try Self.field(fields[3], "month", 1...12)
        var wd = try Self.field(fields[4], "day-of-week", 0...7)
        if wd.contains(7) { wd.remove(7); wd.insert(0) }
        weekdays = wd
        daysRestricted = fields[2] != "*"
        weekdaysRestricted = fields[4] != "*"
    }

    static func field(_ text: String, _ name: String, _ range: ClosedRange<Int>) throws -> Set<Int> {
        var result: Set<Int> = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            var body = part
            var step = 1
            if let slash = part.firstIndex(of: "/") {
                body = String(part[..<slash])
                guard let s = Int(part[part.index(after: slash)...]), s > 0 else {
                    throw ParseError(description: "\(name): bad step in '\(part)'")
                }
                step = s
            }
            let lo: Int, hi: Int
            if body == "*" {
                lo = range.lowerBound; hi = range.upperBound
            } else if let dash = body.firstIndex(of: "-") {
                guard let a = Int(body[..<dash]), let b = Int(body[body.index(after: dash)...]), a <= b else {
                    throw ParseError(description: "\(name): bad range '\(body)'")
                }
                lo = a; hi = b
            } else if let v = Int(body) {
                lo = v; hi = step > 1 ? range.upperBound : v
            } else {
                throw ParseError(description: "\(name): '\(part)' is not a number, range, step or *")
            }
            guard range.contains(lo), range.contains(hi) else {
                throw ParseError(description: "\(name): '\(part)' is outside \(range.lowerBound)-\(range.upperBound)")
            }
            for v in stride(from: lo, through: hi, by: step) { result.insert(v) }
        }
        return result
    }

    /// Whether the minute starting at `unixSeconds` matches.
    public func matches(_ unixSeconds: Int64) -> Bool {
        let minuteOfDay = Int(Cadence.floorDiv(unixSeconds, 60) - Cadence.floorDiv(unixSeconds, 86_400) * 1440)
        return minutes.contains(minuteOfDay % 60) && hours.contains(minuteOfDay / 60)
            && dayMatches(Cadence.floorDiv(unixSeconds, 86_400))
    }

    func dayMatches(_ dayNumber: Int64) -> Bool {
        let (_, month, day) = CivilDate.fromDays(dayNumber)
        guard months.contains(month) else { return false }
        let weekday = Int((dayNumber % 7 + 11) % 7)  // 1970-01-01 was a Thursday (4)
        let dayOK = days.contains(day), weekdayOK = weekdays.contains(weekday)
        if daysRestricted && weekdaysRestricted { return dayOK || weekdayOK }
        if daysRestricted { return dayOK }
        if weekdaysRestricted { return weekdayOK }
        return true
    }

    /// The first matching minute strictly after `unixSeconds`, searching up to about eight years.
    public func next(after unixSeconds: Int64) -> Int64? {
        var t = Cadence.floorDiv(unixSeconds, 60) * 60 + 60
        let limit = t + 8 * 366 * 86_400
        while t <= limit {
            let dayNumber = Cadence.floorDiv(t, 86_400)
            if !dayMatches(dayNumber) {
                t = (dayNumber + 1) * 86_400
                continue
            }
            if matches(t) { return t }
            t += 60
        }
        return nil
    }
}

/// Proleptic Gregorian dates from day numbers (days since 1970-01-01), after Howard Hinnant.
public enum CivilDate {
    public static func fromDays(_ z0: Int64) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }
}
