import BlueTraceWire
import NIOCore

/// Learns what the transport does, for metrics: connections opened and closed, and how long each request took to be
/// answered. Called on the connection's event loop or wherever the reply was made: it must not block, and should cost
/// no more than an atomic update.
public protocol TransportObserver: Sendable {
    /// A connection was admitted (refused ones are not counted).
    func connectionOpened()
    /// An admitted connection closed.
    func connectionClosed()
    /// A request of kind `operation` (its message type, as `ClientMessage.type` names it) was answered `nanoseconds`
    /// after it was read.
    func requestAnswered(_ operation: String, nanoseconds: Int64)
}

/// A responder that times another: reads the clock when a request arrives and when its reply is made, and tells the
/// observer. Installed only when a `TransportObserver` is given, so a server without metrics pays nothing.
struct TimedResponder: SessionResponder {
    let responder: any SessionResponder
    let observer: any TransportObserver

    func respond(to message: ClientMessage, from user: String?, reply: @escaping @Sendable (SessionReply) -> Void) {
        let started = NIODeadline.now()
        let operation = message.type
        responder.respond(to: message, from: user) { [observer] answer in
            observer.requestAnswered(operation, nanoseconds: (NIODeadline.now() - started).nanoseconds)
            reply(answer)
        }
    }
}
