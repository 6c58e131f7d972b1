import BlueTraceClient
import BlueTraceServer
import BlueTraceWire
import Foundation
import NIOCore
import Testing

/// The server's limits: each refusal is explained to the client, and other clients carry on.
@Suite("Limits, end to end")
struct LimitsTests {
    static let login = framed(#"{"v":1,"type":"login","id":1,"username":"+61410777777","password":"datha457"}"#)

    @Test("A connection that never logs in is told so and closed at the deadline")
    func loginDeadline() async throws {
        var limits = ConnectionLimits()
        limits.loginDeadline = 0.3
        let directory = try TestDirectory()
        try await withServer(in: directory, limits: limits) { server in
            let raw = try await RawConnection.connect(port: server.port)
            let (replies, closed) = try await raw.exchange([], expecting: 2)
            #expect(closed)
            guard case .goingAway(let message) = replies.first?.message else {
                Issue.record("expected going_away, got \(replies)")
                return
            }
            #expect(message.contains("No login within the deadline"))
        }
    }

    @Test("A logged-in session that stays silent is closed after the idle timeout")
    func idleTimeout() async throws {
        var limits = ConnectionLimits()
        limits.idleTimeout = 0.3
        let directory = try TestDirectory()
        try await withServer(in: directory, limits: limits) { server in
            let raw = try await RawConnection.connect(port: server.port)
            let (replies, closed) = try await raw.exchange(Self.login, expecting: 3)
            #expect(closed)
            #expect(replies.first?.message == .welcome(message: "Welcome to the BlueTrace Simulator!"))
            guard case .goingAway(let message) = replies.dropFirst().first?.message else {
                Issue.record("expected going_away, got \(replies)")
                return
            }
            #expect(message.contains("idle"))
        }
    }

    @Test("An upload over the entry limit is refused whole, and the session goes on")
    func tooManyEntries() async throws {
        var limits = ConnectionLimits()
        limits.maximumUploadEntries = 2
        let directory = try TestDirectory()
        try await withServer(in: directory, limits: limits) { server in
            let entry = #"{"tempID":"12345678901234567891","start":1589392446,"expiry":1589393345}"#
            let upload = framed(
                #"{"v":1,"type":"upload_contact_log","id":2,"entries":["#
                    + [entry, entry, entry].joined(separator: ",")
                    + "]}")
            let download = framed(#"{"v":1,"type":"download_tempid","id":3}"#)
            let raw = try await RawConnection.connect(port: server.port)
            let (replies, closed) = try await raw.exchange(Self.login + upload + download, expecting: 3)
            #expect(!closed)
            guard case .error(.tooManyEntries, let message) = replies.dropFirst().first?.message else {
                Issue.record("expected too_many_entries, got \(replies)")
                return
            }
            #expect(message.contains("at most 2 entries"))
            guard case .tempID = replies.last?.message else {
                Issue.record("the session did not go on: \(replies)")
                return
            }
        }
    }

    @Test("Connections over the maximum are refused with server_busy; the first one keeps working")
    func maximumConnections() async throws {
        var limits = ConnectionLimits()
        limits.maximumConnections = 1
        let directory = try TestDirectory()
        try await withServer(in: directory, limits: limits) { server in
            let first = try await server.loggedInClient("+61410777777", "datha457")
            let second = try await RawConnection.connect(port: server.port)
            let (replies, closed) = try await second.exchange(Self.login, expecting: 2)
            #expect(closed)
            guard case .error(.serverBusy, let message) = replies.first?.message else {
                Issue.record("expected server_busy, got \(replies)")
                return
            }
            #expect(message.contains("busy"))
            await first.type("Download_tempID")
            try await first.expect("> TempID:")
        }
    }

    @Test("Too many new connections from one address are refused until it slows down")
    func connectionRate() async throws {
        var limits = ConnectionLimits()
        limits.connectionsPerSecondPerAddress = 0.01  // a burst of one, then one every 100 s
        let directory = try TestDirectory()
        try await withServer(in: directory, limits: limits) { server in
            var refused = 0
            for _ in 0..<4 {
                let raw = try await RawConnection.connect(port: server.port)
                let (replies, _) = try await raw.exchange(Self.login, expecting: 1)
                if case .error(.serverBusy, _) = replies.first?.message { refused += 1 }
            }
            #expect(refused == 3)
        }
    }
}
