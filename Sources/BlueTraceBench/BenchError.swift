/// Why a bench run could not be done; each message says what to do about it.
public enum BenchError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An option is out of range.
    case invalidOption(String)
    /// The server could not be reached.
    case cannotConnect(host: String, port: Int, reason: String)
    /// The server refused to register a test user.
    case registrationRefused(user: String, message: String)
    /// A test user could not log in.
    case loginRefused(user: String, message: String)
    /// The server refused a connection under its connection limits.
    case serverBusy(message: String)
    /// The server answered with something other than what the protocol says it should.
    case unexpectedReply(request: String, reply: String)
    /// The server closed the connection.
    case connectionClosed(during: String)
    /// No client made progress setting up for too long.
    case setupStalled(seconds: Int, ready: Int, clients: Int)
    /// The run needs more file descriptors than this process may open.
    case tooFewFileDescriptors(needed: Int, limit: Int, bothEnds: Bool)
    /// A process's resident memory or processor time could not be read.
    case processUnreadable(pid: Int32?, reason: String)

    public var description: String {
        switch self {
        case .invalidOption(let message):
            message
        case .cannotConnect(let host, let port, let reason):
            "cannot connect to \(host):\(port): \(reason). Is a bluetrace server running there? Start one with "
                + "`bluetrace server \(port) 60`, or pass --spawn to run one inside the benchmark."
        case .registrationRefused(let user, let message):
            "the server refused to register the test user \(user): \(message). Pass a --password of at least 8 "
                + "characters."
        case .loginRefused(let user, let message):
            "the test user \(user) cannot log in: \(message). If the server already has the test users with another "
                + "password, pass that one with --password, or use a server with a fresh database (or --spawn)."
        case .serverBusy(let message):
            "the server refused the connection: \(message) Every bench connection comes from this one address: start "
                + "the server with a higher --connections-per-second (and --max-connections), or use fewer --clients."
        case .unexpectedReply(let request, let reply):
            "the server answered \(request) with \(reply); is it a bluetrace server speaking protocol version 1?"
        case .connectionClosed(let during):
            "the server closed the connection during \(during). Check the server's diagnostics (--log-level info)."
        case .setupStalled(let seconds, let ready, let clients):
            "no client finished connecting and logging in for \(seconds) s (\(ready) of \(clients) ready); the server "
                + "may be overloaded or stuck. Use fewer --clients, a lower server --password-cost, or a longer "
                + "--timeout."
        case .tooFewFileDescriptors(let needed, let limit, let bothEnds):
            "this run needs about \(needed) file descriptors"
                + (bothEnds ? " (two per connection: with --spawn both ends are in this process)" : "")
                + ", but the limit is \(limit) and could not be raised. Raise it with `ulimit -n \(needed)` before "
                + "running (the hard limit only with CAP_SYS_RESOURCE), use fewer --clients"
                + (bothEnds ? ", or run the server as a process of its own and pass <host> <port>." : ".")
        case .processUnreadable(let pid, let reason):
            "cannot read the memory or processor time of process \(pid.map(String.init) ?? "self") from /proc: "
                + "\(reason). Pass the server's process id with --server-pid (these are measured on Linux only)."
        }
    }
}
