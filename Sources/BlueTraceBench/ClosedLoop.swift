import BlueTraceDomain
import BlueTraceWire

/// The closed loop of one connection for one kind of request: keeps `pipeline` requests in flight until the window
/// ends, then waits for the last replies; judges every reply and records its latency. A value the connection's
/// handler runs on its event loop (`BenchClientHandler.run`).
struct ClosedLoop: Sendable {
    /// What the handler does after a reply.
    enum Step {
        /// Send more while there is room, and end when nothing is in flight after the window.
        case goOn
        /// The connection can no longer be trusted (a reply out of order): end with this error.
        case stop(BenchError)
    }

    let operation: BenchOperation
    /// The request, encoded once: every request of the loop is the same message under its own id.
    let message: EncodedClientMessage
    let window: RunWindow
    let pipeline: Int
    /// Entries each upload holds (every one must be traced for the upload to count as a success).
    let uploadEntries: Int
    /// The id of the first request; set by the connection.
    var firstID: UInt64 = 1
    /// The id of the next request.
    var nextID: UInt64 = 1
    private(set) var recorder = LatencyRecorder()
    private var inFlight: [(id: UInt64, sentAt: ContinuousClock.Instant)] = []
    private var oldest = 0

    init(operation: BenchOperation, message: EncodedClientMessage, window: RunWindow, pipeline: Int, uploadEntries: Int)
    {
        self.operation = operation
        self.message = message
        self.window = window
        self.pipeline = pipeline
        self.uploadEntries = uploadEntries
    }

    /// Whether the window has ended and every reply is in.
    var isDone: Bool { inFlight.count == oldest && ContinuousClock.now >= window.end }

    /// The id of the next request to send (of `message`), if there is room for one and the window is open.
    mutating func nextRequest() -> UInt64? {
        guard inFlight.count - oldest < pipeline else { return nil }
        let now = ContinuousClock.now
        guard now < window.end else { return nil }
        if oldest > 1024, oldest == inFlight.count {
            inFlight.removeAll(keepingCapacity: true)
            oldest = 0
        }
        let id = nextID
        nextID += 1
        inFlight.append((id, now))
        return id
    }

    /// Judges a reply to the oldest request in flight.
    mutating func received(_ reply: Result<ServerFrame, BenchError>) -> Step {
        guard oldest < inFlight.count else {
            return .stop(.unexpectedReply(request: operation.rawValue, reply: "a reply to no request"))
        }
        let (id, sentAt) = inFlight[oldest]
        oldest += 1
        let done = ContinuousClock.now
        let counted = sentAt >= window.measureFrom
        let frame: ServerFrame
        switch reply {
        case .success(let received): frame = received
        case .failure(let error):
            if counted { recorder.failure(operation, "\(error)") }
            return .goOn
        }
        if frame.id == nil, case .goingAway = frame.message {
            let error = BenchError.connectionClosed(during: "\(operation.rawValue) (the server is shutting down)")
            failAllInFlight("\(error)")
            return .stop(error)
        }
        guard frame.id == nil || frame.id == id else {
            let error = BenchError.unexpectedReply(
                request: operation.rawValue, reply: "a reply to request \(frame.id ?? 0) instead of \(id)")
            if counted { recorder.failure(operation, "\(error)") }
            failAllInFlight("\(error)")
            return .stop(error)
        }
        guard counted else { return .goOn }
        Self.judge(
            operation, frame.message, latency: done - sentAt, completedAt: done, uploadEntries: uploadEntries,
            into: &recorder)
        return .goOn
    }

    /// Counts every request still in flight as failed (the connection is gone).
    mutating func failAllInFlight(_ message: String) {
        for request in inFlight[oldest...] where request.sentAt >= window.measureFrom {
            recorder.failure(operation, message)
        }
        inFlight.removeAll()
        oldest = 0
    }

    /// Records a reply to `operation` as a success (with its latency) or a failure (with what was wrong).
    static func judge(
        _ operation: BenchOperation, _ message: ServerMessage, latency: Duration, completedAt: ContinuousClock.Instant,
        uploadEntries: Int, into recorder: inout LatencyRecorder
    ) {
        switch (operation, message) {
        case (.tempid, .tempID):
            recorder.success(.tempid, latency: latency, completedAt: completedAt)
        case (.upload, .uploadReceipt(let receipt)):
            if receipt.received == uploadEntries, receipt.matched == uploadEntries {
                recorder.success(.upload, latency: latency, completedAt: completedAt, tracedEntries: receipt.matched)
            } else {
                let first = receipt.unmatched.first.map { " (first untraced: \($0.reason.rawValue))" } ?? ""
                recorder.failure(
                    .upload,
                    "the server received \(receipt.received) and traced \(receipt.matched) of \(uploadEntries) "
                        + "entries\(first)")
            }
        case (_, let other):
            recorder.failure(operation, describe(other))
        }
    }
}
