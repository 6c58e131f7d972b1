import BlueTraceWire
import NIOCore
import NIOEmbedded
import Testing

@testable import BlueTraceServer

/// The login deadline and the idle timeout, in the handler alone, on an event loop whose time the test moves.
@Suite("Session timeouts")
struct SessionTimeoutsTests {
    static func channel(loginDeadline: Double = 10, idleTimeout: Double = 60) throws -> EmbeddedChannel {
        var limits = ConnectionLimits()
        limits.loginDeadline = loginDeadline
        limits.idleTimeout = idleTimeout
        let channel = EmbeddedChannel(handler: SessionTimeouts(limits: limits))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 5055)).wait()
        return channel
    }

    static let request = Inbound<ClientFrame>.message(ClientFrame(id: 1, message: .downloadTempID))
    static let welcome = ServerFrame(id: 0, message: .welcome(message: ServerText.welcome))

    /// The `going_away` text the handler sent, if it sent one.
    static func goingAway(_ channel: EmbeddedChannel) throws -> String? {
        while let frame = try channel.readOutbound(as: ServerFrame.self) {
            if case .goingAway(let message) = frame.message { return message }
        }
        return nil
    }

    @Test("A connection that does not log in is closed at the deadline")
    func loginDeadline() throws {
        let channel = try Self.channel()
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
        #expect(try Self.goingAway(channel)?.contains("No login") == true)
    }

    @Test("Every message from the client pushes the idle timeout back; silence then closes the session")
    func activityKeepsTheSessionOpen() throws {
        let channel = try Self.channel(idleTimeout: 60)
        try channel.writeOutbound(Self.welcome)
        // Requests at 40 s and 80 s: never 60 s of silence, so the timer set at login (due at 60 s) and the ones
        // after it find the client active and wait on.
        for _ in 0..<2 {
            channel.embeddedEventLoop.advanceTime(by: .seconds(40))
            try channel.writeInbound(Self.request)
        }
        channel.embeddedEventLoop.advanceTime(by: .seconds(59))
        #expect(channel.isActive, "59 s after the last request")
        #expect(try Self.goingAway(channel) == nil)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive, "61 s after the last request")
        #expect(try Self.goingAway(channel)?.contains("idle") == true)
    }

    @Test("Logging in replaces the login deadline with the idle timeout")
    func loginStartsTheIdleTimeout() throws {
        let channel = try Self.channel(loginDeadline: 10, idleTimeout: 60)
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        try channel.writeOutbound(Self.welcome)
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        #expect(channel.isActive, "past the login deadline, but logged in")
        channel.embeddedEventLoop.advanceTime(by: .seconds(31))
        #expect(!channel.isActive)
    }
}
