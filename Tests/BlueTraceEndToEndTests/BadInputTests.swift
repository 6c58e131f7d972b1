import BlueTraceWire
import Foundation
import Testing

/// The rows of docs/ROBUSTNESS.md not covered elsewhere: each bad input gets its documented answer.
@Suite("Bad input")
struct BadInputTests {
    @Test("A second login on a logged-in connection is refused; a malformed upload entry is flagged, not fatal")
    func sessionMisuse() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory) { server in
            let login = framed(#"{"v":1,"type":"login","id":1,"username":"+61410777777","password":"datha457"}"#)
            let again = framed(#"{"v":1,"type":"login","id":2,"username":"+61410888888","password":"comp3331"}"#)
            let upload = framed(
                #"{"v":1,"type":"upload_contact_log","id":3,"entries":["#
                    + #"{"tempID":"12345678901234567891","start":1589392446,"expiry":1589393345},"#
                    + #"{"tempID":"has space","start":1,"expiry":2},42]}"#)
            let raw = try await RawConnection.connect(port: server.port)
            let (replies, closed) = try await raw.exchange(login + again + upload, expecting: 3)
            #expect(!closed)
            guard case .error(.alreadyLoggedIn, _) = replies[1].message,
                case .uploadReceipt(let receipt) = replies[2].message
            else {
                Issue.record("unexpected replies \(replies)")
                return
            }
            #expect(receipt.received == 3)
            #expect(receipt.matched == 1)
            #expect(receipt.unmatched.map(\.reason) == [.malformed, .malformed])
            #expect(receipt.unmatched.map(\.index) == [1, 2])
        }
        #expect(try await storedVerdicts(in: directory.path) == ["traced", "malformed", "malformed"])
    }

    @Test(
        "Bad command-line arguments get a usage error (exit 64); an unreachable server a one-line error (exit 1)",
        arguments: [
            (["server", "abc", "10"], Int32(64), "invalid for '<server-port>'"),
            (["server", "70000", "10"], Int32(64), "server_port must be a port number"),
            (["server", "5000"], Int32(64), "Missing expected argument '<block-duration>'"),
            (["client", "127.0.0.1", "5000"], Int32(64), "Missing expected argument"),
            (["simulate", "--adoption", "2"], Int32(64), "--adoption must be between 0 and 1"),
            (["simulate", "--epidemic", "--compliance", "2"], Int32(64), "--compliance must be between 0 and 1"),
            (["simulate", "--repeats", "0"], Int32(64), "--repeats must be at least 1"),
            (["simulate", "--sweep", "detection=0.2:1:0.2"], Int32(64), "is an epidemic parameter: add --epidemic"),
            (
                ["simulate", "--epidemic", "--transport", "udp", "--phones", "10"], Int32(64),
                "--epidemic runs on the memory transport only"
            ),
            (["simulate", "--epidemic", "--risk-scoring"], Int32(64), "leave out one of the two"),
            (["client", "127.0.0.1", "1", "0"], Int32(1), "Cannot reach the server at 127.0.0.1:1"),
        ])
    func commandLine(arguments: [String], status: Int32, message: String) async throws {
        let directory = try TestDirectory()
        let (code, _, errors) = try await runBluetrace(arguments, in: directory.path)
        #expect(code == status)
        #expect(errors.contains(message), "stderr was: \(errors)")
    }
}
