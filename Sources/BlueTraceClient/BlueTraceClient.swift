import BlueTraceDomain
import BlueTraceWire
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A phone: one TCP session with the server, a UDP socket that sends and hears beacons, and a contact log.
public struct BlueTraceClient: Sendable {
    private typealias BeaconChannel = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>

    private let configuration: ClientConfiguration
    private let clock: any WallClock
    private let transcript: any Transcript
    private let observers: [any PhoneObserver]
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup
    private let onBeaconSocket: @Sendable (SocketAddress) async -> Void

    /// Creates a client; `observers` learn every `PhoneEvent`; `onBeaconSocket` is told the bound UDP address once
    /// the client is connected and listening (useful when `udpPort` is 0).
    public init(
        configuration: ClientConfiguration,
        clock: any WallClock = SystemWallClock(),
        transcript: any Transcript,
        observers: [any PhoneObserver] = [],
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onBeaconSocket: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.clock = clock
        self.transcript = transcript
        self.observers = observers
        self.logger = logger
        self.eventLoopGroup = eventLoopGroup
        self.onBeaconSocket = onBeaconSocket
    }

    /// Runs the whole session: connects, binds the beacon socket, logs in, and executes commands from `input` until
    /// logout, end of input, or a lost connection.
    public func run(input: some LineInput) async throws -> ClientOutcome {
        let (serverFrames, serverSink) = AsyncStream<Inbound<ServerFrame>>.makeStream()
        let serverChannel: any Channel
        do {
            serverChannel = try await ServerConnector(
                host: configuration.serverHost, port: configuration.serverPort, tls: configuration.tls,
                eventLoopGroup: eventLoopGroup
            ).connect { _ in ServerFrameStreamHandler(sink: serverSink) }.channel
        } catch {
            if error.duringTLSHandshake {
                throw ClientStartupError.tlsFailed(host: error.host, port: error.port, reason: error.reason)
            }
            throw ClientStartupError.serverUnreachable(host: error.host, port: error.port, reason: error.reason)
        }
        let beaconChannel: BeaconChannel
        do {
            beaconChannel = try await bindBeaconSocket()
        } catch {
            try? await serverChannel.close()
            throw error
        }
        await onBeaconSocket(beaconChannel.channel.localAddress!)
        let book = ContactLogBook(
            policy: RetentionPolicy(retention: configuration.contactRetention), clock: clock,
            format: configuration.timeFormat, logger: logger)

        defer { serverChannel.close(promise: nil) }
        return try await beaconChannel.executeThenClose { beaconsIn, beaconsOut in
            let (replies, repliesContinuation) = AsyncStream<ServerFrame>.makeStream()
            let leaving = Flag()
            let outcome = await withTaskGroup(of: ClientOutcome?.self) { group in
                group.addTask {
                    await receiveBeacons(beaconsIn, into: book)
                    return nil
                }
                group.addTask {
                    await book.pruneContinuously()
                    return nil
                }
                group.addTask {
                    let wentAway = await forwardReplies(
                        serverFrames, to: repliesContinuation, server: ServerFrameWriter(channel: serverChannel))
                    if leaving.isSet { return nil }
                    return wentAway ? .serverWentAway : .connectionLost
                }
                group.addTask {
                    var session = CommandSession(
                        configuration: configuration, clock: clock, transcript: transcript,
                        observers: observers, logger: logger, book: book,
                        server: ServerFrameWriter(channel: serverChannel), replies: replies,
                        beacons: beaconsOut,
                        onLeaving: { leaving.set() })
                    return await session.run(input: input)
                }
                var outcome: ClientOutcome = .connectionLost
                for await result in group {
                    if let result {
                        outcome = result
                        break
                    }
                }
                group.cancelAll()
                return outcome
            }
            switch outcome {
            case .connectionLost:
                transcript.write("> Lost the connection to the server. Exiting.")
            case .serverWentAway:
                transcript.write("> The server has shut down. Exiting.")
            default:
                break
            }
            return outcome
        }
    }

    private func bindBeaconSocket() async throws -> BeaconChannel {
        do {
            // No SO_REUSEADDR: on Linux it lets two UDP sockets share a port (even one the kernel picks for port 0),
            // and a beacon sent to that port reaches only one of them. A UDP port has no TIME_WAIT to reuse.
            return try await DatagramBootstrap(group: eventLoopGroup)
                .bind(host: configuration.udpHost, port: configuration.udpPort) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try BeaconChannel(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw ClientStartupError.udpPortUnavailable(
                host: configuration.udpHost, port: configuration.udpPort, reason: SocketErrorText.describe(error))
        }
    }

    /// The bit set in the request ids of notice acknowledgements.
    static let acknowledgementBit: UInt64 = 1 << 63

    /// Hands every reply to the command session, until the connection ends; shows exposure notices the moment they
    /// arrive and acknowledges them through `server`. Returns whether the server announced it was going away.
    private func forwardReplies(
        _ inbound: AsyncStream<Inbound<ServerFrame>>, to continuation: AsyncStream<ServerFrame>.Continuation,
        server: ServerFrameWriter
    ) async -> Bool {
        defer { continuation.finish() }
        var wentAway = false
        for await item in inbound {
            switch item {
            case .message(let frame):
                switch frame.message {
                case .goingAway:
                    wentAway = true
                case .exposureNotice(let noticeID, let lastEncounter) where frame.id == nil:
                    transcript.write(
                        "> " + ExposureNotice.text(lastEncounter: lastEncounter, format: configuration.timeFormat))
                    for observer in observers {
                        observer.observe(.exposureNoticeReceived(lastEncounter: lastEncounter))
                    }
                    // Acknowledgements use ids of their own (the top bit set), so their replies are told apart from
                    // the command session's.
                    try? await server.write(
                        ClientFrame(
                            id: Self.acknowledgementBit | UInt64(bitPattern: noticeID),
                            message: .acknowledgeNotice(noticeID: noticeID)))
                case _ where (frame.id ?? 0) & Self.acknowledgementBit != 0:
                    if case .error(_, let text) = frame.message {
                        logger.warning("a notice acknowledgement was refused", metadata: ["reason": "\(text)"])
                    }
                default:
                    continuation.yield(frame)
                }
            case .malformed(let error):
                logger.warning("ignored an unreadable message from the server", metadata: ["error": "\(error)"])
            }
        }
        logger.debug("server connection ended")
        return wentAway
    }

    private func receiveBeacons(
        _ inbound: NIOAsyncChannelInboundStream<AddressedEnvelope<ByteBuffer>>, into book: ContactLogBook
    ) async {
        let format = configuration.timeFormat
        do {
            for try await envelope in inbound {
                let now = clock.now()
                let beacon: Beacon
                do {
                    beacon = try Beacon.parse(envelope.data.readableBytesView, format: format)
                } catch {
                    logger.info(
                        "ignored a datagram that is not a beacon",
                        metadata: ["from": "\(envelope.remoteAddress)", "reason": "\(error)"])
                    for observer in observers { observer.observe(.invalidDatagram) }
                    transcript.write([
                        "> received an invalid beacon from \(envelope.remoteAddress.ipAddress ?? "?"):"
                            + "\(envelope.remoteAddress.port ?? 0) (\(error)); ignored.",
                        ClientText.beaconInvalid,
                    ])
                    continue
                }
                let valid = beacon.validity.contains(now)
                if valid {
                    // Saved before it is shown, so a beacon reported valid is already in the contact log.
                    do {
                        try await book.record(beacon)
                    } catch {
                        logger.error("could not write the contact log", metadata: ["error": "\(error)"])
                        transcript.write("> Could not save the beacon to the contact log: \(error)")
                    }
                }
                for observer in observers {
                    observer.observe(
                        .beaconHeard(beacon.issued, valid: valid))
                }
                transcript.write(
                    ["> received beacon:"] + ClientText.fields(of: beacon, format: format)
                        + [
                            "Current time is:", format.string(from: now),
                            valid ? ClientText.beaconValid : ClientText.beaconInvalid,
                        ])
            }
        } catch {
            logger.debug("beacon socket closed", metadata: ["error": "\(error)"])
        }
    }
}

/// The client's user-facing sentences, exactly as the assignment prints them.
public enum ClientText {
    /// Printed for a command the client does not know.
    public static let invalidCommand = "> Error. Invalid command"
    /// The verdict for a beacon inside its validity window.
    public static let beaconValid = "The beacon is valid."
    /// The verdict for any other beacon or datagram.
    public static let beaconInvalid = "The beacon is invalid."

    static func fields(of beacon: Beacon, format: TimestampFormat) -> [String] {
        encounterLines(tempID: beacon.tempID, validity: beacon.validity, format: format)
    }
}

/// A flag one task raises and others read.
final class Flag: Sendable {
    private let value = Mutex(false)

    /// Whether the flag has been raised.
    var isSet: Bool { value.withLock { $0 } }

    /// Raises the flag.
    func set() { value.withLock { $0 = true } }
}
