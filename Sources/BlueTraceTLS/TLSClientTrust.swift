import Foundation
import NIOCore
import NIOSSL
import NIOTLS
import SwiftASN1
import Synchronization
import X509

/// Which certificate authorities a TLS client trusts: the system's trust store, or the one in a PEM file (the
/// development authority of `bluetrace certs dev`, or a private one). The client checks the server's certificate
/// against them and against the host name it connects to, with TLS 1.2 or later (1.3 preferred).
public struct TLSClientTrust: Sendable, Hashable {
    /// How long a client waits for the server to finish the handshake, unless told otherwise.
    public static let defaultHandshakeTimeout = TimeAmount.seconds(10)

    static let verificationHint =
        " (for a private or development authority, give its certificate with --tls-ca "
        + "FILE; bluetrace certs dev writes ca.pem)"

    /// The PEM file of the authorities to trust; `nil`: the system's trust store.
    public var certificateAuthorityPath: String?

    /// How long the client waits for the server to finish the handshake.
    public var handshakeTimeout: TimeAmount

    /// Trusts the system's store, or only the authorities in `certificateAuthorityPath`.
    public init(
        certificateAuthorityPath: String? = nil, handshakeTimeout: TimeAmount = TLSClientTrust.defaultHandshakeTimeout
    ) {
        self.certificateAuthorityPath = certificateAuthorityPath
        self.handshakeTimeout = handshakeTimeout
    }

    /// Makes the client context (once per client; every connection shares it): the authorities are read now.
    public func makeContext() throws(TLSSetupError) -> TLSClientContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        let roots: CertificateStore
        if let path = certificateAuthorityPath {
            let text = String(decoding: try TLSServerIdentity.read(path), as: UTF8.self)
            do {
                let certificates = try PEMDocument.parseMultiple(pemString: text).map {
                    try Certificate(pemDocument: $0)
                }
                guard !certificates.isEmpty else {
                    throw TLSSetupError.invalidCertificate(path: path, reason: "no certificate in it")
                }
                roots = CertificateStore(certificates)
            } catch let error as TLSSetupError {
                throw error
            } catch {
                throw .invalidCertificate(path: path, reason: "\(error)")
            }
        } else {
            roots = CertificateStore.systemTrustRoots
        }
        do {
            return TLSClientContext(
                context: try NIOSSLContext(configuration: configuration), roots: roots,
                handshakeTimeout: handshakeTimeout)
        } catch {
            throw .invalidCertificate(path: certificateAuthorityPath ?? "the system trust store", reason: "\(error)")
        }
    }
}

/// A client's TLS settings, made once from a `TLSClientTrust` and shared by all its connections.
public struct TLSClientContext: Sendable {
    let context: NIOSSLContext
    /// The authorities the server's certificate must chain to.
    let roots: CertificateStore
    /// How long a connection waits for the server to finish the handshake.
    let handshakeTimeout: TimeAmount
}

/// A client's TLS for one connection: the client handler (checking the certificate, saying why it failed) and a
/// handler that completes `handshake` once the handshake is done, or fails it saying why in words.
public struct TLSClientConnection {
    /// Done when the handshake is: await it before using the connection.
    public let handshake: EventLoopFuture<Void>
    private let handlers: [any ChannelHandler]

    /// Makes the handlers for a connection to `host` on `eventLoop`'s channel.
    public init(context: TLSClientContext, host: String, eventLoop: any EventLoop) throws {
        let diagnosis = CertificateDiagnosis()
        let promise = eventLoop.makePromise(of: Void.self)
        let isAddress = ipAddressBytes(host) != nil
        let checker = CertificateChecker(
            roots: context.roots, hostname: isAddress ? nil : host, address: isAddress ? host : nil)
        // A name is sent as SNI; an address never is (NIOSSL then checks the certificate against the address).
        let tls = try NIOSSLClientHandler(
            context: context.context, serverHostname: isAddress ? nil : host,
            customVerificationCallback: { certificates, verdict in
                checker.check(certificates, diagnosis: diagnosis, verdict: verdict)
            })
        handshake = promise.futureResult
        handlers = [
            tls,
            ClientHandshakeWaiter(
                promise: promise, host: host, diagnosis: diagnosis, timeout: context.handshakeTimeout),
        ]
    }

    /// Adds the handlers, in front of the protocol's own.
    public func add(to pipeline: ChannelPipeline.SynchronousOperations) throws {
        for handler in handlers { try pipeline.addHandler(handler) }
    }
}

/// Checks a server's certificate chain with swift-certificates: RFC 5280 (signatures, validity, constraints) up to
/// the trusted authorities, and the name or address connected to. When the check fails it notes why, in words.
struct CertificateChecker: Sendable {
    let roots: CertificateStore
    let hostname: String?
    let address: String?

    func check(
        _ presented: [NIOSSLCertificate], diagnosis: CertificateDiagnosis,
        verdict: EventLoopPromise<NIOSSLVerificationResult>
    ) {
        let chain: [Certificate]
        do {
            chain = try presented.map { try Certificate(derEncoded: try $0.toDERBytes()) }
        } catch {
            diagnosis.set("the server's certificate cannot be read (\(error))")
            verdict.succeed(.failed)
            return
        }
        guard let leaf = chain.first else {
            diagnosis.set("the server sent no certificate")
            verdict.succeed(.failed)
            return
        }
        let (roots, hostname, address) = (self.roots, self.hostname, self.address)
        let intermediates = CertificateStore(chain.dropFirst())
        Task {
            let now = Date()
            var verifier = Verifier(rootCertificates: roots) {
                RFC5280Policy()
                ServerIdentityPolicy(serverHostname: hostname, serverIP: address)
            }
            if case .validCertificate = await verifier.validate(leaf: leaf, intermediates: intermediates) {
                verdict.succeed(.certificateVerified)
                return
            }
            let formatter = ISO8601DateFormatter()
            if leaf.notValidAfter < now {
                diagnosis.set(
                    "the server's certificate expired on \(formatter.string(from: leaf.notValidAfter)): the server "
                        + "needs a new one")
            } else if leaf.notValidBefore > now {
                diagnosis.set(
                    "the server's certificate is not valid before \(formatter.string(from: leaf.notValidBefore)) "
                        + "(is a clock wrong?)")
            } else {
                var chainOnly = Verifier(rootCertificates: roots) { RFC5280Policy() }
                if case .validCertificate = await chainOnly.validate(leaf: leaf, intermediates: intermediates) {
                    let name = hostname ?? address ?? "?"
                    diagnosis.set(
                        "the server's certificate is not issued for \(name): connect with a name the certificate "
                            + "holds, or give the server a certificate for \(name)")
                } else {
                    diagnosis.set(
                        "the server's certificate is not signed by an authority this client trusts"
                            + TLSClientTrust.verificationHint)
                }
            }
            verdict.succeed(.failed)
        }
    }
}

/// Why the certificate check failed, noted by the checker and read when the handshake fails.
final class CertificateDiagnosis: Sendable {
    private let reason = Mutex<String?>(nil)

    func set(_ text: String) {
        reason.withLock { if $0 == nil { $0 = text } }
    }

    var text: String? { reason.withLock { $0 } }
}

/// Completes the handshake promise: on `handshakeCompleted`, or with a failure in words on an error, a close, or
/// the timeout. Passes everything on.
final class ClientHandshakeWaiter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let promise: EventLoopPromise<Void>
    private let host: String
    private let diagnosis: CertificateDiagnosis
    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var done = false

    init(promise: EventLoopPromise<Void>, host: String, diagnosis: CertificateDiagnosis, timeout: TimeAmount) {
        self.promise = promise
        self.host = host
        self.diagnosis = diagnosis
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            loopBound.value.fail(HandshakeTimedOut())
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(ChannelClosedDuringHandshake())
    }

    private func fail(_ error: any Error) {
        guard !done else { return }
        done = true
        timer?.cancel()
        promise.fail(TLSHandshakeError(reason: TLSFailure.clientSide(error, host: host, diagnosis: diagnosis.text)))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event, !done {
            done = true
            timer?.cancel()
            promise.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if done {
            context.fireErrorCaught(error)
        } else {
            fail(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ChannelClosedDuringHandshake())
        context.fireChannelInactive()
    }
}

/// The TLS handshake with the server failed; `reason` says why and what to do.
public struct TLSHandshakeError: Error, CustomStringConvertible {
    /// Why, in words.
    public var reason: String

    public var description: String { reason }
}
