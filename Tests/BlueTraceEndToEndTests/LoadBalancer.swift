import Foundation

/// Where HAProxy is installed (`.ci/run` installs Debian's package).
let haproxyPath = "/usr/sbin/haproxy"

/// Whether HAProxy is installed.
let haproxyAvailable = FileManager.default.isExecutableFile(atPath: haproxyPath)

/// HAProxy in front of servers on loopback, as scripts/scale-out.sh runs it, for tests of several instances.
///
/// TCP mode, `balance roundrobin` and one thread, so that connections made one after another go to the servers in
/// turn (server 0, 1, 0, …, from wherever the rotation stands); health checks every 200 ms take a dead server out,
/// and a connection refused by one is tried again on another (`option redispatch`). HAProxy runs in the foreground
/// (`-db`) with its standard error drained: that is where it says a server went down.
final class LoadBalancer {
    /// The HAProxy process.
    let child: ChildProcess
    /// The loopback port the phones connect to.
    let port: Int
    /// The directory holding the configuration, removed with the balancer.
    private let directory: TestDirectory

    /// Starts HAProxy in front of the servers on these loopback ports (named `s1`, `s2`, … in that order) and waits
    /// until it accepts connections. The probe that finds it ready is one connection, forwarded to a server like any
    /// other: tests learn where their phones landed from the servers' own output, not from the rotation's start.
    init(servers ports: [Int]) async throws {
        directory = try TestDirectory()
        var attempt = 0
        while true {
            attempt += 1
            // A port bound by nobody else, given to HAProxy: between its release here and HAProxy's bind another
            // process could take it, and then HAProxy exits saying so and the next attempt takes another port.
            let reserved = try ReservedPort()
            let candidate = reserved.number
            reserved.release()
            try directory.write(Self.configuration(port: candidate, servers: ports), to: "haproxy.cfg")
            let child = try ChildProcess(
                ["-db", "-f", "\(directory.path)/haproxy.cfg"], in: directory.path,
                executable: URL(fileURLWithPath: haproxyPath))
            if try await Self.accepts(candidate, while: child) {
                self.child = child
                port = candidate
                return
            }
            let ended = await child.finish()
            guard attempt < 5, ended.errors.contains("cannot bind") else {
                throw LoadBalancerError.didNotStart(ended.errors + ended.output)
            }
        }
    }

    /// The configuration: the frontend on `port`, one backend server per port in `servers`.
    static func configuration(port: Int, servers: [Int]) -> String {
        var lines = [
            "global", "    nbthread 1", "    maxconn 1000",
            "defaults", "    mode tcp", "    timeout connect 5s", "    timeout client 10m", "    timeout server 10m",
            "    retries 3", "    option redispatch 1",
            "frontend phones", "    bind 127.0.0.1:\(port)", "    default_backend servers",
            "backend servers", "    balance roundrobin",
        ]
        for (index, server) in servers.enumerated() {
            lines.append("    server s\(index + 1) 127.0.0.1:\(server) check inter 200ms fall 2 rise 2")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Waits until `port` accepts a connection (true) or `child` has ended (false); throws after 30 seconds.
    private static func accepts(_ port: Int, while child: ChildProcess) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let probe = try? await RawConnection.connect(port: port) {
                try? await probe.channel.executeThenClose { _, _ in }
                return true
            }
            if !child.process.isRunning { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw LoadBalancerError.didNotStart("no connection accepted within 30 s:\n" + child.errors.text)
    }

    /// Waits until HAProxy says that server `index` (0-based, in the order given) is down: its health checks found
    /// it dead, so no new connection goes to it. Throws after `timeout`.
    func untilDown(server index: Int, timeout: Duration = .seconds(30)) async throws {
        let line = "Server servers/s\(index + 1) is DOWN"
        let deadline = ContinuousClock.now + timeout
        while !child.errors.text.contains(line) {
            guard ContinuousClock.now < deadline else {
                throw LoadBalancerError.neverSaid(line, errors: child.errors.text)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops HAProxy (SIGTERM, its immediate stop) and waits for it to end.
    func stop() async {
        await child.stop(signal: SIGTERM)
    }
}

/// HAProxy did not do what the test needed; its standard error says why.
enum LoadBalancerError: Error, CustomStringConvertible {
    /// It ended, or never accepted connections.
    case didNotStart(String)
    /// It never wrote the line awaited.
    case neverSaid(String, errors: String)

    var description: String {
        switch self {
        case .didNotStart(let errors): "HAProxy did not start: \(errors)"
        case .neverSaid(let line, let errors): "HAProxy never said \"\(line)\"; its standard error:\n\(errors)"
        }
    }
}
