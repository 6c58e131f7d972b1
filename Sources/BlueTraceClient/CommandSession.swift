import BlueTraceDomain
import BlueTraceWire
import Logging
import NIOCore

/// The client's conversation: log in, then run the user's commands one by one.
struct CommandSession {
    let configuration: ClientConfiguration
    let clock: any WallClock
    let transcript: any Transcript
    let observers: [any PhoneObserver]
    let logger: Logger
    let book: ContactLogBook
    let server: ServerFrameWriter
    let replies: AsyncStream<ServerFrame>
    let beacons: NIOAsyncChannelOutboundWriter<AddressedEnvelope<ByteBuffer>>
    /// Called just before the session ends the connection on purpose, so its closing is not taken for a failure.
    let onLeaving: @Sendable () -> Void

    private var nextRequestID: UInt64 = 1
    private var wallet = TempIDWallet()
    private lazy var replyIterator = replies.makeAsyncIterator()

    init(
        configuration: ClientConfiguration, clock: any WallClock, transcript: any Transcript,
        observers: [any PhoneObserver], logger: Logger, book: ContactLogBook,
        server: ServerFrameWriter, replies: AsyncStream<ServerFrame>,
        beacons: NIOAsyncChannelOutboundWriter<AddressedEnvelope<ByteBuffer>>, onLeaving: @escaping @Sendable () -> Void
    ) {
        self.configuration = configuration
        self.clock = clock
        self.transcript = transcript
        self.observers = observers
        self.logger = logger
        self.book = book
        self.server = server
        self.replies = replies
        self.beacons = beacons
        self.onLeaving = onLeaving
    }

    /// Runs login and then commands until the session ends.
    mutating func run(input: some LineInput) async -> ClientOutcome {
        let user: String
        switch await login(input: input) {
        case .loggedIn(let name): user = name
        case .ended(let outcome): return outcome
        }
        do {
            try await book.attach(to: ContactLogBook.path(for: user, in: configuration.logDirectory))
        } catch {
            transcript.write("> Cannot use the contact log file: \(error). Beacons will be kept in memory only.")
        }
        while true {
            guard let line = await input.readLine(prompt: "> ", secret: false) else {
                return await logout(becauseInputEnded: true)
            }
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard let command = words.first else { continue }
            let outcome: ClientOutcome?
            switch command {
            case "Download_tempID" where words.count == 1: outcome = await downloadTempID(renewal: false)
            case "Upload_contact_log" where words.count == 1: outcome = await uploadContactLog(input: input)
            case "Beacon": outcome = await beacon(arguments: Array(words.dropFirst()))
            case "logout" where words.count == 1: return await logout(becauseInputEnded: false)
            default:
                transcript.write(ClientText.invalidCommand)
                outcome = nil
            }
            if let outcome { return outcome }
        }
    }

    // MARK: Login

    private enum LoginResult {
        case loggedIn(String)
        case ended(ClientOutcome)
    }

    private mutating func login(input: some LineInput) async -> LoginResult {
        if configuration.register {
            switch await register(input: input) {
            case .registered(let username, let password):
                return await login(username: username, knownPassword: password, input: input)
            case .ended(let outcome): return .ended(outcome)
            }
        }
        guard let username = await input.readLine(prompt: "> Username: ", secret: false) else {
            return inputEndedBeforeLogin()
        }
        return await login(username: username, knownPassword: nil, input: input)
    }

    private enum RegistrationResult {
        case registered(username: String, password: String)
        case ended(ClientOutcome)
    }

    /// Creates an account, asking again until the server accepts one; returns the new username.
    private mutating func register(input: some LineInput) async -> RegistrationResult {
        transcript.write(
            "> Create an account: your username is your phone number (+ and 8 to 15 digits); "
                + "the password needs at least \(RegistrationRules.minimumPasswordLength) characters.")
        while true {
            guard let username = await input.readLine(prompt: "> Username: ", secret: false),
                let password = await input.readLine(prompt: "> Password: ", secret: true)
            else {
                _ = inputEndedBeforeLogin()
                return .ended(.endOfInputBeforeLogin)
            }
            guard let reply = await request(.register(username: username, password: password)) else {
                return .ended(.connectionLost)
            }
            switch reply {
            case .registered(let message):
                transcript.write("> \(message)")
                return .registered(username: username, password: password)
            default:
                transcript.write("> \(Self.describe(reply))")
            }
        }
    }

    /// Logs in as `username`, with `knownPassword` first if given, then asking for the password until accepted.
    private mutating func login(username: String, knownPassword: String?, input: some LineInput) async -> LoginResult {
        var pending = knownPassword
        while true {
            let typed: String?
            if let known = pending {
                typed = known
                pending = nil
            } else {
                typed = await input.readLine(prompt: "> Password: ", secret: true)
            }
            guard let password = typed else { return inputEndedBeforeLogin() }
            guard let reply = await request(.login(username: username, password: password)) else {
                return .ended(.connectionLost)
            }
            switch reply {
            case .welcome(let message, let notices):
                transcript.write("> \(message)")
                for notice in notices { await show(notice) }
                return .loggedIn(username)
            case .error(.invalidPassword, let message):
                transcript.write("> \(message)")
            case .error(.accountBlockedNow, let message), .error(.accountBlocked, let message):
                transcript.write("> \(message)")
                onLeaving()
                return .ended(.loginRefused)
            default:
                transcript.write("> The server refused the login: \(Self.describe(reply))")
                onLeaving()
                return .ended(.loginRefused)
            }
        }
    }

    private func inputEndedBeforeLogin() -> LoginResult {
        transcript.write("> Input ended before a successful login. Exiting.")
        onLeaving()
        return .ended(.endOfInputBeforeLogin)
    }

    /// Shows an exposure notice that waited for this login, and acknowledges it.
    private mutating func show(_ notice: WireNotice) async {
        transcript.write(
            "> " + ExposureNotice.text(lastEncounter: notice.lastEncounter, format: configuration.timeFormat))
        report(.exposureNoticeReceived(lastEncounter: notice.lastEncounter))
        guard let reply = await request(.acknowledgeNotice(noticeID: notice.noticeID)) else { return }
        if case .error(_, let text) = reply {
            logger.warning("a notice acknowledgement was refused", metadata: ["reason": "\(text)"])
        }
    }

    /// Tells every observer what happened.
    private func report(_ event: PhoneEvent) {
        for observer in observers { observer.observe(event) }
    }

    // MARK: Commands

    private mutating func downloadTempID(renewal: Bool) async -> ClientOutcome? {
        guard let reply = await request(.downloadTempID) else { return .connectionLost }
        guard case .tempID(let tempID, let validity, let following) = reply else {
            transcript.write("> Could not download a TempID: \(Self.describe(reply))")
            return nil
        }
        wallet.fill(with: [IssuedTempID(tempID: tempID, validity: validity)] + following)
        report(.tempIDsDownloaded(count: 1 + following.count, renewal: renewal))
        transcript.write(["> TempID:", tempID.rawValue])
        if let last = following.last {
            transcript.write(
                "> and \(following.count) more, valid until \(configuration.timeFormat.string(from: last.validity.expiry)); "
                    + "the phone switches to each in turn.")
        }
        return nil
    }

    private mutating func uploadContactLog(input: some LineInput) async -> ClientOutcome? {
        let entries: [ContactLogEntry]
        do {
            entries = try await book.currentEntries()
        } catch {
            transcript.write("> Could not read the contact log: \(error)")
            return nil
        }
        guard !entries.isEmpty else {
            transcript.write("> Your contact log is empty: there is nothing to upload.")
            return nil
        }
        transcript.write(
            entries.flatMap {
                encounterLines(tempID: $0.tempID, validity: $0.validity, format: configuration.timeFormat)
            })
        let upload = entries.map { UploadEntry.encounter(ReportedEncounter($0)) }
        guard var reply = await request(.uploadContactLog(upload)) else { return .connectionLost }
        if case .error(.uploadCodeRequired, _) = reply {
            // This server wants a one-time code from a health official: ask for it, then send the upload with it.
            guard let typed = await input.readLine(prompt: "> Upload code: ", secret: false),
                case let code = String(typed.filter { !$0.isWhitespace }), !code.isEmpty
            else {
                transcript.write("> Upload cancelled: no upload code was given. Nothing was stored.")
                return nil
            }
            guard let withCode = await request(.uploadContactLog(upload, code: code)) else { return .connectionLost }
            reply = withCode
        }
        guard case .uploadReceipt(let receipt) = reply else {
            transcript.write("> The upload failed: \(Self.describe(reply))")
            return nil
        }
        report(.contactLogUploaded(receipt))
        transcript.write(
            "> Contact log uploaded: the server received \(receipt.received) "
                + "\(receipt.received == 1 ? "entry" : "entries") and traced \(receipt.matched).")
        return nil
    }

    private mutating func beacon(arguments: [String]) async -> ClientOutcome? {
        guard arguments.count == 2, let port = Int(arguments[1]), (1...65_535).contains(port),
            let destination = try? SocketAddress(ipAddress: arguments[0], port: port)
        else {
            transcript.write(
                "> Usage: Beacon <dest IP> <dest port>, e.g. Beacon 127.0.0.1 6000 (an IP address and a port "
                    + "from 1 to 65535)")
            return nil
        }
        if wallet.needsRenewal(at: clock.now()) {
            transcript.write("> Your TempIDs have all expired; downloading new ones.")
            if let outcome = await downloadTempID(renewal: true) { return outcome }
        }
        let now = clock.now()
        guard let (issued, isValid) = wallet.tempID(at: now) else {
            transcript.write("> You have no TempID yet: run Download_tempID first.")
            return nil
        }
        let (tempID, validity) = (issued.tempID, issued.validity)
        let format = configuration.timeFormat
        if !isValid {
            let when = now > validity.expiry ? "expired at" : "is not valid before"
            transcript.write(
                "> Warning: your TempID \(when) \(format.string(from: validity.expiry < now ? validity.expiry : validity.start)); "
                    + "sending it anyway (the receiver will find it invalid). Run Download_tempID for a fresh one.")
        }
        let beacon = Beacon(tempID: tempID, validity: validity)
        let datagram = beacon.datagram(format: format)
        transcript.write(ClientText.fields(of: beacon, format: format))
        do {
            try await beacons.write(AddressedEnvelope(remoteAddress: destination, data: ByteBuffer(bytes: datagram)))
        } catch {
            transcript.write("> Could not send the beacon: \(error)")
        }
        return nil
    }

    private mutating func logout(becauseInputEnded: Bool) async -> ClientOutcome {
        onLeaving()
        guard let reply = await request(.logout) else { return .connectionLost }
        if case .loggedOut = reply {
        } else {
            logger.warning("unexpected reply to logout", metadata: ["reply": "\(Self.describe(reply))"])
        }
        return becauseInputEnded ? .endOfInput : .loggedOut
    }

    // MARK: Requests

    /// Sends `message` and waits for its reply; `nil` when the connection is gone.
    private mutating func request(_ message: ClientMessage) async -> ServerMessage? {
        let id = nextRequestID
        nextRequestID += 1
        do {
            try await server.write(ClientFrame(id: id, message: message))
        } catch {
            logger.debug("could not send a request", metadata: ["error": "\(error)"])
            return nil
        }
        while let frame = await replyIterator.next() {
            if frame.id == id || frame.id == nil { return frame.message }
            logger.debug("ignored a reply to another request", metadata: ["id": "\(frame.id ?? 0)"])
        }
        return nil
    }

    private static func describe(_ message: ServerMessage) -> String {
        if case .error(_, let text) = message { return text }
        return "unexpected \(message.type) reply"
    }
}
