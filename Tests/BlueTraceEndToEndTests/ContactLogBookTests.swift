import BlueTraceClient
import BlueTraceDomain
import BlueTraceWire
import Foundation
import Testing

/// The client's contact-log file: loading, retention across restarts, and atomic rewrites.
@Suite("Contact log file")
struct ContactLogBookTests {
    static let format = TimestampFormat.utc

    static func beacon(_ tempID: String) -> Beacon {
        Beacon(
            tempID: TempID(tempID)!,
            validity: ValidityWindow(start: sampleNow - 60, expiry: sampleNow + 839))
    }

    func book(_ clock: ManualWallClock, retention: Int64 = 180) -> ContactLogBook {
        ContactLogBook(
            policy: RetentionPolicy(retention: retention), clock: clock, format: Self.format, logger: quietLogger)
    }

    @Test("Beacons heard before login are kept and written once the file is attached, after the stored ones")
    func attachMergesStoredAndEarlyEntries() async throws {
        let directory = try TestDirectory()
        let clock = ManualWallClock(sampleNow)
        try directory.write(
            "11111111111111111111 13/05/2020 17:55:00 13/05/2020 18:09:59 13/05/2020 17:55:30\r\n"
                + "this line is not an entry\r\n"
                + "22222222222222222222 13/05/2020 17:00:00 13/05/2020 17:14:59 13/05/2020 17:05:00",
            to: "log.txt")
        let book = book(clock)
        try await book.record(Self.beacon("33333333333333333333"))
        try await book.attach(to: "\(directory.path)/log.txt")
        let tempIDs = try await book.currentEntries().map(\.tempID.rawValue)
        #expect(tempIDs == ["11111111111111111111", "33333333333333333333"], "the 17:05 entry is past retention")
        #expect(
            try directory.read("log.txt")
                == "11111111111111111111 13/05/2020 17:55:00 13/05/2020 18:09:59 13/05/2020 17:55:30\n"
                + "33333333333333333333 13/05/2020 17:55:00 13/05/2020 18:09:59 13/05/2020 17:56:00\n")
    }

    @Test("Every change rewrites the whole file and leaves no temporary file behind")
    func rewritesAtomically() async throws {
        let directory = try TestDirectory()
        let clock = ManualWallClock(sampleNow)
        let book = book(clock, retention: 10)
        try await book.attach(to: "\(directory.path)/log.txt")
        for index in 0..<5 {
            try await book.record(Self.beacon(String(repeating: "\(index)", count: 20)))
            clock.advance(by: 5)
        }
        try await book.prune()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(files == ["log.txt"])
        let lines = try directory.read("log.txt").split(separator: "\n")
        #expect(lines.map { String($0.prefix(1)) } == ["3", "4"], "entries older than 10 s are gone")
    }

    @Test("The file path is <username>_contactlog.txt in the log directory")
    func path() {
        #expect(ContactLogBook.path(for: "+61410777777", in: "/tmp/x") == "/tmp/x/+61410777777_contactlog.txt")
    }
}
