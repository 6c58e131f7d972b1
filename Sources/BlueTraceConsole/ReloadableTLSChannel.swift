import BlueTraceTLS
import HummingbirdCore
import Logging
import NIOCore

/// The console's TLS: the phone server's `TLSServerContext` (the certificate in force now, replaced on SIGHUP) in
/// front of an HTTP child channel, with the same plaintext refusal and handshake guard as the phone protocol.
/// Hummingbird's own `TLSChannel` fixes its certificate when the server starts; this one reads it per connection.
struct ReloadableTLSChannel<BaseChannel: ServerChildChannel>: ServerChildChannel {
    typealias Value = BaseChannel.Value

    let base: BaseChannel
    let context: TLSServerContext

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try context.addHandlers(to: channel.pipeline.syncOperations, logger: logger) { allocator in
                allocator.buffer(string: Self.plaintextRefusal)
            }
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }

    /// What a browser speaking plain HTTP to the TLS console gets before the connection closes.
    static var plaintextRefusal: String {
        let body = "This console is served over TLS: use https:// instead of http://.\n"
        return "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
            + "\(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
    }
}

extension ReloadableTLSChannel: HTTPChannelHandler where BaseChannel: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 over TLS whose certificate is read from `context` for each new connection, so a reload reaches new
    /// connections without a restart.
    static func reloadableTLS(context: TLSServerContext) -> HTTPServerBuilder {
        .init { responder in ReloadableTLSChannel(base: HTTP1Channel(responder: responder), context: context) }
    }
}
