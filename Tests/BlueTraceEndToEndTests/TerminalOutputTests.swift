import BlueTraceAuthority
import BlueTraceCLI
import BlueTraceDomain
import BlueTraceWire
import Foundation
import Testing

/// The server never waits on its own terminal: what it prints goes through a bounded buffer drained by a thread.
@Suite("Terminal output off the request path")
struct TerminalOutputTests {
    @Test(
        "A server whose standard output is a pipe nobody reads serves 10,000 TempID downloads",
        .timeLimit(.minutes(2)))
    func unreadPipe() async throws {
        let directory = try TestDirectory()
        try directory.write(Demo.sampleCredentials, to: "credentials.txt")
        let server = try await ServerProcess(directory: directory.path, standardOutput: .pipeNeverRead)
        let connection = try await RawConnection.connect(port: server.port)
        let downloads = 10_000
        var bytes = framed(#"{"v":1,"type":"login","id":1,"username":"+61410777777","password":"datha457"}"#)
        for id in 2...(downloads + 1) { bytes += framed(#"{"v":1,"type":"download_tempid","id":\#(id)}"#) }
        let (replies, closed) = try await connection.exchange(bytes, expecting: downloads + 1)
        #expect(!closed)
        #expect(replies.first?.message == .welcome(message: "Welcome to the BlueTrace Simulator!"))
        let tempIDs = replies.dropFirst().filter {
            if case .tempID = $0.message { return true }
            return false
        }
        #expect(tempIDs.count == downloads)
        // Nothing that matters is lost: the TempID file holds every one the terminal could not show.
        let journal = try directory.read("tempIDs.txt").split(whereSeparator: \.isNewline)
        #expect(journal.count == downloads)
        #expect(await server.stop(signal: SIGTERM) == 0, "shutting down does not wait on the terminal either")
    }

    @Test("Lines that do not fit are dropped whole, counted, and the count is shown once the terminal catches up")
    func droppedLinesAreCounted() async throws {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let (readEnd, writeEnd) = (descriptors[0], descriptors[1])
        defer { close(readEnd) }
        // Fill the pipe so the writer's first write blocks, as a terminal that stopped reading would.
        let flags = fcntl(writeEnd, F_GETFL)
        _ = fcntl(writeEnd, F_SETFL, flags | O_NONBLOCK)
        var prefilled = 0
        let chunk = [UInt8](repeating: UInt8(ascii: "."), count: 4096)
        while true {
            let written = chunk.withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
            guard written > 0 else { break }
            prefilled += written
        }
        _ = fcntl(writeEnd, F_SETFL, flags)

        let writer = TerminalWriter(fileDescriptor: writeEnd, capacity: 1000)
        let blocks = 100
        for block in 0..<blocks {
            // 2 lines, 100 bytes: ten fit in the buffer while the writer is stuck.
            writer.write(
                "block \(block)".padding(toLength: 49, withPad: " ", startingAt: 0) + "\n"
                    + String(repeating: "x", count: 49) + "\n", lines: 2)
        }
        // Every write above returned at once: the caller never waited on the stuck pipe. Now read the pipe.
        let reader = OutputDrain(FileHandle(fileDescriptor: readEnd, closeOnDealloc: false))
        let notice = try #require(
            await reader.first { text in
                text.range(of: #"> \(\d+ lines not shown"#, options: .regularExpression) != nil ? 1 : nil
            })
        #expect(notice == 1)
        #expect(writer.flush(timeout: .seconds(30)))
        // Everything is written and the writer is idle: closing its end lets the reader see the end of the text.
        close(writeEnd)
        let text = String(await reader.untilEnd().dropFirst(prefilled))
        let lines = text.split(separator: "\n")
        let shownBlocks = lines.filter { $0.hasPrefix("block ") }.count
        // One notice where each gap is (the writer may have taken some blocks before the pipe stopped it).
        let notices = lines.filter { $0.hasPrefix("> (") }
        var dropped = 0
        for notice in notices {
            let count = try #require(Int(notice.dropFirst(3).prefix { $0.isNumber }))
            #expect(notice == "> (\(count) lines not shown: the terminal could not keep up)")
            dropped += count
        }
        #expect(dropped > 0)
        #expect(shownBlocks * 2 + dropped == blocks * 2, "every line is either shown or counted: \(text)")
        #expect(lines.filter { $0.hasPrefix("x") }.count == shownBlocks, "no block is cut")
    }
}

/// The assignment's server lines for an upload too large for the terminal's buffer are counted, not made.
@Suite("Terminal output of huge uploads")
struct HugeUploadOutputTests {
    @Test(
        "An upload whose lines cannot fit the buffer is counted as dropped without being made; a small one prints whole"
    )
    func hugeUploadCounted() async throws {
        var descriptors: [Int32] = [0, 0]
        #expect(pipe(&descriptors) == 0)
        let (readEnd, writeEnd) = (descriptors[0], descriptors[1])
        defer { close(readEnd) }
        let reader = OutputDrain(FileHandle(fileDescriptor: readEnd, closeOnDealloc: false))
        let writer = TerminalWriter(fileDescriptor: writeEnd, capacity: 4096)
        let format = TimestampFormat(timeZone: TimeZone(identifier: "UTC")!)
        let observer = AssignmentTranscript(transcript: StandardOutputTranscript(writer: writer), format: format)
        func upload(_ count: Int) -> TracedUpload {
            let start = Timestamp(secondsSinceEpoch: 1_589_391_906)
            let grants = (0..<count).map { number in
                TempIDGrant(
                    user: "+61410888888",
                    tempID: TempID(String(10_000_000_000_000_000_000 as UInt64 + UInt64(number)))!,
                    validity: ValidityWindow(start: start, expiry: start + 899))
            }
            return TracedUpload(
                uploader: "+61410666666",
                entries: grants.map { .encounter(ReportedEncounter(tempID: $0.tempID, validity: $0.validity)) }
                    + [.malformed(tempID: nil, reason: "not an object")],
                traced: grants,
                receipt: UploadReceipt(
                    received: count + 1, matched: count,
                    unmatched: [UnmatchedEntry(index: count, tempID: nil, reason: .malformed, detail: "not an object")])
            )
        }
        // 1,000 entries: 6,004 lines, well over 4,096 bytes even at the least each line could take.
        let huge = upload(1_000)
        observer.observe(.uploadTraced(huge))
        let small = upload(1)
        observer.observe(.uploadTraced(small))
        #expect(writer.flush(timeout: .seconds(30)))
        close(writeEnd)
        let lines = await reader.untilEnd().split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(
            Array(lines) == [
                "> (6004 lines not shown: the terminal could not keep up)",
                "> received contact log from +61410666666",
                "10000000000000000000,", "13/05/2020 17:45:06,", "13/05/2020 18:00:05;",
                "? (malformed: not an object);",
                "> Contact log checking",
                "+61410888888,", "13/05/2020 17:45:06,", "10000000000000000000;",
                "> unmatched: ? (malformed entry)",
            ])
    }
}

/// What a `bluetrace` process printed reaches its standard output before it exits, on every way out.
@Suite("Terminal output at exit")
struct TerminalOutputAtExitTests {
    @Test("The demo's last line is printed before the process ends")
    func demoPrintsEverything() async throws {
        let directory = try TestDirectory()
        let (status, output, _) = try await runBluetrace(["demo"], in: directory.path)
        #expect(status == 0)
        #expect(
            output.split(separator: "\n").last
                == "demo     | Demo finished: every step behaved as the assignment describes.")
    }

    @Test("A client that exits with an error has printed its last words")
    func errorExitPrintsEverything() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            // No input at all: the client gives up before logging in, says so, and exits with status 1.
            let (status, output, _) = try await runBluetrace(
                ["client", "127.0.0.1", "\(server.port)", "0"], in: directory.path)
            #expect(status == 1)
            #expect(output.hasSuffix("> Input ended before a successful login. Exiting.\n"), "output: \(output)")
        }
    }
}
