import BlueTraceClient
import BlueTraceDomain
import Foundation
import Testing

/// The assignment's sample interactions, run with the real server and real clients over loopback sockets.
@Suite("Assignment interactions, end to end")
struct AssignmentTests {
    @Test("A user logs in, sees the welcome, and logs out")
    func loginAndLogout() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let client = try await server.loggedInClient("+61410777777", "datha457")
            await client.type("logout")
            #expect(try await client.outcome() == .loggedOut)
            try await server.screen.waitForLine(containing: "> +61410777777 logout")
            #expect(client.screen.lines.contains("> Welcome to the BlueTrace Simulator!"))
        }
    }

    @Test("A wrong password asks only for the password again")
    func wrongPasswordThenRight() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let client = try await server.client()
            await client.type("+61410777777", "nope")
            try await client.expect("> Invalid Password. Please try again")
            await client.type("datha457")
            try await client.expect("> Welcome to the BlueTrace Simulator!")
            let prompts = client.screen.lines.filter { $0.hasPrefix("> Username:") || $0.hasPrefix("> Password:") }
            #expect(prompts == ["> Username: +61410777777", "> Password: ", "> Password: "])
            await client.endInput()
            #expect(try await client.outcome() == .endOfInput)
        }
    }

    @Test("Three failures block the user, even with the right password, until block_duration has passed")
    func blockingAndUnblocking() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory, blockDuration: 10) { server in
            let first = try await server.client()
            await first.type("+61410999999", "a", "b", "c")
            try await first.expect("> Invalid Password. Your account has been blocked. Please try again later")
            #expect(try await first.outcome() == .loginRefused)
            #expect(first.screen.lines.filter { $0 == "> Invalid Password. Please try again" }.count == 2)

            let duringBlock = try await server.client()
            await duringBlock.type("+61410999999", "bada4568")
            try await duringBlock.expect(
                "> Your account is blocked due to multiple login failures. Please try again later")
            #expect(try await duringBlock.outcome() == .loginRefused)

            server.clock.advance(by: 9)
            let stillBlocked = try await server.client()
            await stillBlocked.type("+61410999999", "bada4568")
            try await stillBlocked.expect("Your account is blocked due to multiple login failures")

            server.clock.advance(by: 1)
            let afterBlock = try await server.loggedInClient("+61410999999", "bada4568")
            await afterBlock.type("logout")
            #expect(try await afterBlock.outcome() == .loggedOut)
        }
    }

    @Test("Failures are counted per username across connections, and other users are unaffected")
    func failuresCountAcrossConnections() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let first = try await server.client()
            await first.type("+61410888888", "x", "y")
            await first.endInput()
            #expect(try await first.outcome() == .endOfInputBeforeLogin)

            let other = try await server.loggedInClient("+61410777777", "datha457")
            let second = try await server.client()
            await second.type("+61410888888", "z")
            try await second.expect("Your account has been blocked")
            await other.type("logout")
            #expect(try await other.outcome() == .loggedOut)
        }
    }

    @Test("An unknown username gets the same answers as a wrong password, blocking included")
    func unknownUserLooksLikeWrongPassword() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let client = try await server.client()
            await client.type("+61400000000", "a", "b", "c")
            try await client.expect("> Invalid Password. Your account has been blocked. Please try again later")
            #expect(client.screen.lines.filter { $0 == "> Invalid Password. Please try again" }.count == 2)
        }
    }

    @Test("Download_tempID issues a 20-digit TempID valid for 15 minutes and appends it to tempIDs.txt")
    func downloadTempID() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let client = try await server.loggedInClient("+61410666666", "kara1234")
            await client.type("Download_tempID")
            let index = try await client.expect("> TempID:")
            let tempID = try #require(client.screen.lines.dropFirst(index + 1).first)
            #expect(tempID.count == 20 && tempID.allSatisfy(\.isNumber))

            let serverLines = server.screen.lines
            #expect(serverLines.suffix(3) == ["> user: +61410666666", "> TempID:", tempID])

            let file = try directory.read("tempIDs.txt")
            let lines = file.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.count == 4, "the three sample lines are kept and one is added")
            #expect(lines.first == "+61410999999 12345678901234567890 13/05/2020 17:45:06 13/05/2020 18:00:05")
            #expect(lines.last == "+61410666666 \(tempID) 13/05/2020 17:56:00 13/05/2020 18:10:59")
        }
    }

    @Test("Unknown commands, bad Beacon arguments and Beacon before a TempID are explained")
    func invalidCommands() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let client = try await server.loggedInClient("+61410666666", "kara1234")
            await client.type("Hello")
            try await client.expect("> Error. Invalid command")
            await client.type("download_tempid")
            #expect(client.screen.lines.filter { $0 == "> Error. Invalid command" }.count == 2)
            for bad in [
                "Beacon", "Beacon 127.0.0.1", "Beacon localhost 5000", "Beacon 127.0.0.1 99999",
                "Beacon 127.0.0.1 5000 extra",
            ] {
                let before = client.screen.lines.count
                await client.type(bad)
                try await client.expect("> Usage: Beacon <dest IP> <dest port>", from: before)
            }
            await client.type("Beacon 127.0.0.1 5000")
            try await client.expect("run Download_tempID first")
            await client.type("logout")
            #expect(try await client.outcome() == .loggedOut)
        }
    }

    @Test("A beacon is valid inside its TempID's window and logged; once expired it is invalid and not logged")
    func beaconValidThenInvalid() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let receiver = try await server.loggedInClient("+61410777777", "datha457")
            let sender = try await server.loggedInClient("+61410888888", "comp3331")
            await sender.type("Download_tempID")
            let tempID = sender.screen.lines[try await sender.expect("> TempID:") + 1]

            await sender.type("Beacon 127.0.0.1 \(receiver.beaconPort)")
            let first = try await receiver.expect("> received beacon:")
            try await receiver.expect("The beacon is valid.")
            #expect(
                Array(receiver.screen.lines[first...].prefix(7)) == [
                    "> received beacon:", "\(tempID),", "13/05/2020 17:56:00,", "13/05/2020 18:10:59;",
                    "Current time is:", "13/05/2020 17:56:00", "The beacon is valid.",
                ])
            #expect(sender.screen.lines.suffix(3) == ["\(tempID),", "13/05/2020 17:56:00,", "13/05/2020 18:10:59;"])
            // Read the log before the clock moves on: once it is 15 minutes later the phone's pruning (entries are
            // kept 3 minutes) may remove the entry at any moment.
            let logged = "\(tempID) 13/05/2020 17:56:00 13/05/2020 18:10:59 13/05/2020 17:56:00\n"
            let deadline = ContinuousClock.now + .seconds(60)
            while (try? directory.read("+61410777777_contactlog.txt")) != logged && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try directory.read("+61410777777_contactlog.txt") == logged)

            server.clock.advance(by: 900)
            await sender.type("Beacon 127.0.0.1 \(receiver.beaconPort)")
            try await sender.expect("> Warning: your TempID expired at 13/05/2020 18:10:59")
            let second = try await receiver.expect("> received beacon:", from: first + 1)
            try await receiver.expect("The beacon is invalid.", from: second)
            #expect(receiver.screen.lines[second + 5] == "13/05/2020 18:11:00")

            // The invalid beacon is not logged (the valid one may have been pruned by now: it is 15 minutes old).
            let log = try directory.read("+61410777777_contactlog.txt")
            #expect(log == logged || log.isEmpty, "\(log)")
        }
    }

    @Test("Uploading the sample contact log traces …891 and …892 to their phone numbers")
    func uploadSampleContactLog() async throws {
        let directory = try TestDirectory()
        try directory.write(
            "12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05\r\n"
                + "12345678901234567892 14/05/2020 17:45:06 14/05/2020 18:00:05",
            to: "+61410666666_contactlog.txt")
        try await withServer(in: directory) { server in
            let client = try await server.loggedInClient("+61410666666", "kara1234")
            await client.type("Upload_contact_log")
            try await client.expect("> Contact log uploaded: the server received 2 entries and traced 2.")
            #expect(client.screen.lines.contains("12345678901234567891,"))
            let start = try await server.screen.waitForLine(containing: "> received contact log from +61410666666")
            #expect(
                Array(server.screen.lines[start...]) == [
                    "> received contact log from +61410666666",
                    "12345678901234567891,", "13/05/2020 17:54:06,", "13/05/2020 18:09:05;",
                    "12345678901234567892,", "14/05/2020 17:45:06,", "14/05/2020 18:00:05;",
                    "> Contact log checking",
                    "+61410888888,", "13/05/2020 17:54:06,", "12345678901234567891;",
                    "+61410777777,", "14/05/2020 17:45:06,", "12345678901234567892;",
                ])
        }
    }

    @Test("Unknown TempIDs and times that disagree with the mapping are reported, not dropped")
    func unmatchedEntriesAreReported() async throws {
        let directory = try TestDirectory()
        try directory.write(
            "12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05\n"
                + "99999999999999999999 13/05/2020 17:54:06 13/05/2020 18:09:05\n"
                + "12345678901234567890 13/05/2020 17:45:07 13/05/2020 18:00:05\n",
            to: "+61410666666_contactlog.txt")
        try await withServer(in: directory) { server in
            let client = try await server.loggedInClient("+61410666666", "kara1234")
            await client.type("Upload_contact_log")
            try await client.expect("the server received 3 entries and traced 1.")
            try await server.screen.waitForLine(
                containing: "> unmatched: 99999999999999999999 (unknown TempID)")
            try await server.screen.waitForLine(
                containing: "> unmatched: 12345678901234567890 (times disagree with the issued TempID)")
        }
    }

    @Test("Contact-log entries expire after the retention, also across a client restart")
    func retention() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let receiver = try await server.loggedInClient("+61410777777", "datha457")
            let sender = try await server.loggedInClient("+61410888888", "comp3331")
            await sender.type("Download_tempID", "Beacon 127.0.0.1 \(receiver.beaconPort)")
            try await receiver.expect("The beacon is valid.")
            await receiver.type("logout")
            #expect(try await receiver.outcome() == .loggedOut)

            server.clock.advance(by: 180)
            let restarted = try await server.loggedInClient("+61410777777", "datha457")
            await restarted.type("Upload_contact_log")
            try await restarted.expect("the server received 1 entry and traced 1.")

            server.clock.advance(by: 1)
            await restarted.type("Upload_contact_log")
            try await restarted.expect("> Your contact log is empty: there is nothing to upload.")
            #expect(try directory.read("+61410777777_contactlog.txt") == "")
        }
    }

    @Test("A datagram that is not a beacon is reported as invalid and the listener keeps running")
    func garbageDatagram() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let receiver = try await server.loggedInClient("+61410777777", "datha457")
            try sendDatagram([0xFF, 0x00, 0x41], to: receiver.beaconPort)
            try await receiver.expect("> received an invalid beacon from 127.0.0.1")
            let text = "12345678901234567891,13/05/2020 17:54:06,13/05/2020 18:09:05,1"
            try sendDatagram(Array(text.utf8), to: receiver.beaconPort)
            try await receiver.expect("The beacon is valid.")
            #expect(try directory.read("+61410777777_contactlog.txt").hasPrefix("12345678901234567891 "))
        }
    }

    @Test("At the end of piped input the client logs out and exits cleanly")
    func endOfInputLogsOut() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let client = try await server.loggedInClient("+61410777777", "datha457")
            await client.endInput()
            #expect(try await client.outcome() == .endOfInput)
            try await server.screen.waitForLine(containing: "> +61410777777 logout")
        }
    }
}
