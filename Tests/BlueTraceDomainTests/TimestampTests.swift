import BlueTraceDomain
import Foundation
import Synchronization
import Testing

@Suite("Timestamp and ValidityWindow")
struct TimestampTests {
    @Test func arithmeticMovesBySeconds() {
        let time = ts(1_000)
        #expect(time + 5 == ts(1_005))
        #expect(time + -5 == ts(995))
        #expect(time - 5 == ts(995))
        #expect(ts(1_005) - time == 5)
        #expect(time - ts(1_005) == -5)
    }

    @Test func orderFollowsSeconds() {
        #expect(ts(-1) < ts(0))
        #expect(ts(0) < ts(1))
        #expect(!(ts(1) < ts(1)))
        #expect([ts(3), ts(-2), ts(1)].sorted() == [ts(-2), ts(1), ts(3)])
    }

    @Test func descriptionShowsSeconds() {
        #expect(ts(1_589_391_906).description == "@1589391906")
        #expect(ts(-1).description == "@-1")
    }

    @Test(arguments: [Int64(0), -1, 1_589_391_906, Int64.max, Int64.min])
    func codesAsABareInteger(seconds: Int64) throws {
        let data = try JSONEncoder().encode(ts(seconds))
        #expect(String(decoding: data, as: UTF8.self) == String(seconds))
        #expect(try JSONDecoder().decode(Timestamp.self, from: data) == ts(seconds))
    }

    @Test func decodingRejectsNonIntegers() {
        #expect(throws: (any Error).self) {
            try JSONDecoder().decode(Timestamp.self, from: Data(#""13/05/2020 17:45:06""#.utf8))
        }
    }

    @Test(arguments: [
        (Int64(99), false), (100, true), (101, true), (150, true), (199, true), (200, true), (201, false),
    ])
    func windowIncludesBothEnds(seconds: Int64, inside: Bool) {
        let window = ValidityWindow(start: ts(100), expiry: ts(200))
        #expect(window.contains(ts(seconds)) == inside)
    }

    @Test func oneSecondWindowContainsOnlyThatSecond() {
        let window = ValidityWindow(start: ts(7), expiry: ts(7))
        #expect(window.contains(ts(7)))
        #expect(!window.contains(ts(6)))
        #expect(!window.contains(ts(8)))
    }
}

@Suite("Clocks")
struct ClockTests {
    @Test func manualClockStandsStillUntilMoved() {
        let clock = ManualWallClock(sampleIssueTime)
        #expect(clock.now() == sampleIssueTime)
        #expect(clock.now() == sampleIssueTime)
    }

    @Test func manualClockAdvancesAndIsSet() {
        let clock = ManualWallClock(ts(0))
        clock.advance(by: 90)
        #expect(clock.now() == ts(90))
        clock.advance(by: -30)
        #expect(clock.now() == ts(60))
        clock.set(sampleIssueTime)
        #expect(clock.now() == sampleIssueTime)
        clock.set(ts(-5))
        #expect(clock.now() == ts(-5))
    }

    @Test func manualClockIsUsableThroughTheProtocol() {
        let manual = ManualWallClock(ts(10))
        let clock: any WallClock = manual
        manual.advance(by: 1)
        #expect(clock.now() == ts(11))
    }

    @Test func systemClockReadsTheOperatingSystemTime() {
        let before = Int64(Date().timeIntervalSince1970.rounded(.down))
        let now = SystemWallClock().now()
        let after = Int64(Date().timeIntervalSince1970.rounded(.down))
        #expect(now.secondsSinceEpoch >= before)
        #expect(now.secondsSinceEpoch <= after)
    }
}
