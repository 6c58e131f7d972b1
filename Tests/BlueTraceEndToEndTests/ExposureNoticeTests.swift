import BlueTraceCLI
import BlueTraceClient
import BlueTraceDomain
import Foundation
import NIOCore
import Testing

/// Exposure notices with a real `bluetrace server --exposure-notices` and real clients.
@Suite("Exposure notices, with real processes")
struct ExposureNoticeTests {
    @Test(
        "A logged-in contact is told at once, an offline one at the next login, after a restart too; never who; delivery is audited"
    )
    func notices() async throws {
        let directory = try TestDirectory()
        try directory.write(Demo.sampleCredentials, to: "credentials.txt")
        try directory.write(Demo.sampleTempIDs, to: "tempIDs.txt")
        // +61410666666 heard +61410888888 (…891) and +61410777777 (…892).
        try directory.write(sampleContactLog, to: "+61410666666_contactlog.txt")
        let first = try await ServerProcess(directory: directory.path, arguments: ["--exposure-notices"])

        let online = try await phoneClient(port: first.port, directory: directory.path)
        await online.type("+61410777777", "datha457")
        try await online.expect("Welcome to the BlueTrace Simulator!")
        let uploader = try await phoneClient(port: first.port, directory: directory.path)
        await uploader.type("+61410666666", "kara1234", "Upload_contact_log")
        try await uploader.expect("traced 2.")
        // Pushed: the online phone types nothing and does not log in again, so the notice can only reach it as a push.
        // (How soon is not asserted: on a loaded machine any bound in wall time is a guess.)
        let line = try await online.expect("> Exposure notice:")
        let notice = online.screen.lines[line]
        // The last encounter is when the phone heard the beacon (for this file: when the client read it).
        #expect(notice.contains(/last on \d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d\. Watch for symptoms/))
        #expect(!notice.contains("+61410666666"), "a phone is never told who the positive person was")
        #expect(!uploader.screen.lines.contains { $0.contains("Exposure notice") })
        await online.type("logout")
        #expect(try await online.outcome() == .loggedOut)
        await uploader.type("logout")
        #expect(try await uploader.outcome() == .loggedOut)
        #expect(await first.stop(signal: SIGTERM) == 0)

        // +61410888888 was offline: the notice waits in the database, across a restart, for the next login.
        let second = try await ServerProcess(directory: directory.path, arguments: ["--exposure-notices"])
        let offline = try await phoneClient(port: second.port, directory: directory.path)
        await offline.type("+61410888888", "comp3331")
        let welcome = try await offline.expect("Welcome to the BlueTrace Simulator!")
        let delivered = try await offline.expect("> Exposure notice:")
        #expect(delivered == welcome + 1, "shown right after the welcome, which carried it")
        #expect(offline.screen.lines[delivered].contains(/last on \d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d\./))
        await offline.type("logout")
        #expect(try await offline.outcome() == .loggedOut)

        // Acknowledged notices are not sent again.
        let again = try await phoneClient(port: second.port, directory: directory.path)
        await again.type("+61410777777", "datha457", "logout")
        #expect(try await again.outcome() == .loggedOut)
        #expect(!again.screen.lines.contains { $0.contains("Exposure notice") })

        let (_, audit, _) = try await runBluetrace(["audit", "--json"], in: directory.path)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(audit.utf8)) as? [[String: Any]])
        let steps = rows.map { "\($0["action"] as? String ?? "?") \($0["subject"] as? String ?? "-")" }
        #expect(
            steps.filter { $0.hasPrefix("notice_sent ") }.sorted() == [
                "notice_sent +61410777777", "notice_sent +61410888888",
            ])
        #expect(
            steps.filter { $0.hasPrefix("notice_delivered ") }.sorted() == [
                "notice_delivered +61410777777", "notice_delivered +61410888888",
            ])
        #expect(await second.stop(signal: SIGTERM) == 0)
    }

    @Test("Without --exposure-notices nobody is told anything (the assignment's behaviour)")
    func offByDefault() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            try directory.write(
                "12345678901234567892 14/05/2020 17:45:06 14/05/2020 18:00:05\n", to: "+61410666666_contactlog.txt")
            let contact = try await server.loggedInClient("+61410777777", "datha457")
            let uploader = try await server.loggedInClient("+61410666666", "kara1234")
            await uploader.type("Upload_contact_log")
            try await uploader.expect("traced 1.")
            let later = try await server.loggedInClient("+61410777777", "datha457")
            for phone in [contact, later] {
                await phone.type("logout")
                #expect(try await phone.outcome() == .loggedOut)
                #expect(!phone.screen.lines.contains { $0.contains("Exposure notice") })
            }
        }
    }
}
