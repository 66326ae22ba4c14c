import Testing
@testable import GASCore

@Suite struct CadenceTests {
    @Test func blockCadenceUsesAbsoluteBlockNumbers() {
        let c = Cadence.everyBlocks(360)
        #expect(c.occurrences(after: 1000, upTo: 1440).keys == [1080, 1440])
        #expect(c.occurrences(after: 1080, upTo: 1439).keys == [])
        #expect(c.occurrences(after: -1, upTo: 0).keys == [0])  // block 0 fires, like GAS
        #expect(c.next(after: 1440) == 1800)
        let many = c.occurrences(after: 0, upTo: 360 * 50, limit: 3)
        #expect(many.keys == [360 * 48, 360 * 49, 360 * 50] && many.omitted == 47)
    }

    @Test func intervalsAreAlignedToTheEpoch() {
        let c = Cadence.interval(seconds: 1800)
        #expect(c.occurrences(after: 1_767_225_600 + 1, upTo: 1_767_225_600 + 3600).keys == [1_767_227_400, 1_767_229_200])
    }

    @Test func cronMatchesMinutesInUTC() throws {
        let every30 = try CronExpression("*/30 * * * *")
        // 2026-01-01T00:00:00Z is 1767225600 (a Thursday).
        let half: Int64 = 1_767_225_600 + 1800
        #expect(every30.next(after: 1_767_225_600) == half)
        let mondays = try CronExpression("15 9 * * 1")
        let monday: Int64 = 1_767_225_600 + 4 * 86_400 + 9 * 3600 + 15 * 60  // Mon 2026-01-05 09:15
        #expect(mondays.next(after: 1_767_225_600) == monday)
        let firstOfMonth = try CronExpression("0 0 1 * *")
        #expect(firstOfMonth.next(after: 1_767_225_600) == 1_769_904_000)  // 2026-02-01
        let either = try CronExpression("0 12 15 * 0")  // the 15th or any Sunday
        let sunday: Int64 = 1_767_225_600 + 3 * 86_400 + 12 * 3600  // Sun 2026-01-04 12:00
        #expect(either.next(after: 1_767_225_600) == sunday)
        let list = try CronExpression("0,20-22 3 * * *")
        #expect(Cadence.cron(list).occurrences(after: 1_767_225_600, upTo: 1_767_225_600 + 86_400).keys.count == 4)
    }

    @Test func badCronExpressionsSayWhy() {
        #expect(throws: CronExpression.ParseError.self) { try CronExpression("* * * *") }
        #expect(throws: CronExpression.ParseError.self) { try CronExpression("61 * * * *") }
        #expect(throws: CronExpression.ParseError.self) { try CronExpression("*/0 * * * *") }
        #expect(throws: CronExpression.ParseError.self) { try CronExpression("5-2 * * * *") }
        #expect(throws: CronExpression.ParseError.self) { try CronExpression("a * * * *") }
    }

    @Test func civilDates() {
        #expect(CivilDate.fromDays(0) == (1970, 1, 1))
        #expect(CivilDate.fromDays(20454) == (2026, 1, 1))
        #expect(CivilDate.fromDays(-1) == (1969, 12, 31))
        #expect(CivilDate.fromDays(11016) == (2000, 2, 29))
    }
}
