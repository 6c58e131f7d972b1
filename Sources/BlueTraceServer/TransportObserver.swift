import BlueTraceWire

/// Learns what the transport does, for metrics: connections opened and closed, and how long each request took to be
/// answered. Called on the connection's event loop or wherever the reply was made: it must not block, and should cost
/// no more than an atomic update.
public protocol TransportObserver: Sendable {
    /// A connection was admitted (refused ones are not counted).
    func connectionOpened()
    /// An admitted connection closed.
    func connectionClosed()
    /// A request of `kind` was answered `nanoseconds` after it was read.
    func requestAnswered(_ kind: ClientMessage.Kind, nanoseconds: Int64)
}
