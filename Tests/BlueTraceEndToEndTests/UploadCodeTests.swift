import BlueTraceAuthority
import BlueTraceCLI
import BlueTraceClient
import BlueTraceDomain
import BlueTraceServer
import Foundation
import NIOCore
import Testing

/// One-time upload codes with a real `bluetrace server --require-upload-code`, the official's commands as processes,
/// and real clients.
@Suite("Upload codes, with real processes")
struct UploadCodeTests {
    /// Runs `bluetrace authority issue-code <phone>` in `directory` and returns the code it printed.
    func issueCode(to phone: String, in directory: String) async throws -> String {
        let (status, output, errors) = try await runBluetrace(["authority", "issue-code", phone], in: directory)
        #expect(status == 0, "\(errors)")
        let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("Upload code for \(phone): ") })
        return String(try #require(line.split(separator: " ").last))
    }

    @Test(
        "A code is accepted once and refused the second time; wrong, other-phone and voided codes store nothing; the audit lists every step"
    )
    func codeFlow() async throws {
        let directory = try TestDirectory()
        try directory.write(Demo.sampleCredentials, to: "credentials.txt")
        try directory.write(Demo.sampleTempIDs, to: "tempIDs.txt")
        try directory.write(
            "12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05\n", to: "+61410666666_contactlog.txt")
        let server = try await ServerProcess(directory: directory.path, arguments: ["--require-upload-code"])

        let code = try await issueCode(to: "+61410666666", in: directory.path)
        #expect(code.count == 8 && code.allSatisfy(\.isNumber))
        let phone = try await phoneClient(port: server.port, directory: directory.path)
        await phone.type("+61410666666", "kara1234", "Upload_contact_log", code)
        try await phone.expect("> Contact log uploaded: the server received 1 entry and traced 1.")
        await phone.type("Upload_contact_log", code)
        let used = try await phone.expect("There is no upload code for this phone")
        #expect(phone.screen.lines[used].contains("Nothing was stored."))

        // A code issued to another phone is no code of this one.
        let others = try await issueCode(to: "+61410777777", in: directory.path)
        await phone.type("Upload_contact_log", others)
        try await phone.expect("There is no upload code for this phone", from: used + 1)

        // Five wrong codes void the phone's pending code: the right one is refused after.
        let fresh = try await issueCode(to: "+61410666666", in: directory.path)
        let wrong = fresh == "00000000" ? "11111111" : "00000000"
        for _ in 0..<4 {
            await phone.type("Upload_contact_log", wrong)
        }
        try await phone.expect("(1 more wrong code voids your codes)")
        await phone.type("Upload_contact_log", wrong)
        let voided = try await phone.expect("Too many wrong upload codes: your codes are void.")
        await phone.type("Upload_contact_log", fresh)
        try await phone.expect("There is no upload code for this phone", from: voided)
        // Without a code the client asks for one; an empty answer cancels.
        await phone.type("Upload_contact_log", "")
        try await phone.expect("> Upload cancelled: no upload code was given. Nothing was stored.")
        await phone.type("logout")
        #expect(try await phone.outcome() == .loggedOut)

        #expect(try await storedVerdicts(in: directory.path) == ["traced"], "only the accepted upload was stored")
        _ = try await runBluetrace(["trace", "+61410666666"], in: directory.path)
        let (_, audit, _) = try await runBluetrace(["audit", "--json"], in: directory.path)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(audit.utf8)) as? [[String: Any]])
        let steps = rows.map { "\($0["action"] as? String ?? "?") \($0["actor"] as? String ?? "?")" }
        #expect(steps.first?.hasPrefix("code_issued ") == true)
        #expect(steps.contains("code_redeemed +61410666666"))
        #expect(steps.contains("upload +61410666666"))
        #expect(steps.filter { $0 == "code_refused +61410666666" }.count == 8)
        #expect(steps.filter { $0.hasPrefix("code_issued ") }.count == 3)
        #expect(steps.last?.hasPrefix("trace_query ") == true)
        #expect(!audit.contains(code) && !audit.contains(fresh), "codes never reach the audit trail")
        #expect(await server.stop(signal: SIGTERM) == 0)
    }

    @Test("An expired code is refused with a real server and the official's command; nothing is stored")
    func expiredWithProcesses() async throws {
        let directory = try TestDirectory()
        try directory.write(Demo.sampleCredentials, to: "credentials.txt")
        try directory.write(
            "12345678901234567891 13/05/2020 17:54:06 13/05/2020 18:09:05\n", to: "+61410666666_contactlog.txt")
        let server = try await ServerProcess(directory: directory.path, arguments: ["--require-upload-code"])
        let (status, output, errors) = try await runBluetrace(
            ["authority", "issue-code", "+61410666666", "--valid", "1s"], in: directory.path)
        let issuedBy = Date()
        #expect(status == 0, "\(errors)")
        let code = try #require(output.split(separator: "\n").first?.split(separator: " ").last.map(String.init))
        // A one-second code is valid through the second it was issued in, which is no later than the second the
        // command returned in: wait (by the wall clock the server reads, not a guess) until the next one begins.
        let deadline = issuedBy.timeIntervalSince1970.rounded(.down) + 1
        while Date().timeIntervalSince1970 < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let phone = try await phoneClient(port: server.port, directory: directory.path)
        await phone.type("+61410666666", "kara1234", "Upload_contact_log", code)
        try await phone.expect(
            "That upload code has expired: ask the health official for a new one. Nothing was stored.")
        await phone.type("logout")
        #expect(try await phone.outcome() == .loggedOut)
        #expect(try await storedVerdicts(in: directory.path).isEmpty)
        #expect(await server.stop(signal: SIGTERM) == 0)
    }

    @Test("An official is told clearly when the phone has no account")
    func unknownPhone() async throws {
        let directory = try TestDirectory()
        try directory.write(Demo.sampleCredentials, to: "credentials.txt")
        let server = try await ServerProcess(directory: directory.path, arguments: ["--require-upload-code"])
        let (status, _, errors) = try await runBluetrace(
            ["authority", "issue-code", "+61400000000"], in: directory.path)
        #expect(status != 0)
        #expect(errors.contains("there is no account +61400000000"))
        let badValidity = try await runBluetrace(
            ["authority", "issue-code", "+61410666666", "--valid", "soon"], in: directory.path)
        #expect(badValidity.status != 0)
        #expect(badValidity.errors.contains("--valid must be seconds or a number with s, m or h"))
        #expect(await server.stop(signal: SIGTERM) == 0)
    }

    @Test("A code expires after its lifetime (an injected clock): refused as expired, and gone")
    func expiry() async throws {
        let clock = ManualWallClock(Timestamp(secondsSinceEpoch: 1_767_571_200))
        let application = try await ServerApplication.open(
            configuration: ServerConfiguration(
                port: 0, blockDuration: 60, credentialsPath: nil, tempIDsPath: nil, databasePath: nil,
                keyFilePath: nil, passwordParameters: .simulation, uploadCodes: .required),
            clock: clock, logger: quietLogger)
        let authority = application.authority
        #expect(authority.requiresUploadCode)
        _ = try await authority.register(username: "+61410666666", password: "kara12345")
        let (code, expiresAt) = try await authority.issueUploadCode(to: "+61410666666", lifetime: 60, by: "tester")
        #expect(expiresAt == clock.now() + 59)
        clock.advance(by: 60)
        #expect(try await authority.redeemUploadCode(code, for: "+61410666666") == .expired(expiredAt: expiresAt))
        #expect(try await authority.redeemUploadCode(code, for: "+61410666666") == .noCode)
        let trail = try await authority.auditTrail()
        #expect(trail.map(\.action) == [.codeIssued, .codeRefused, .codeRefused])
        #expect(trail.first?.actor == "tester")
    }
}
