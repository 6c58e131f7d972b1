import Foundation

/// The outcome of a bench run: throughput and latency per operation, and memory for `idle`; printed as a table or
/// as JSON.
public struct BenchReport: Sendable, Codable, Hashable {
    /// The scenario run.
    public var scenario: String
    /// Virtual clients.
    public var clients: Int
    /// Requests each connection kept in flight.
    public var pipeline: Int
    /// Entries per upload, for scenarios that upload.
    public var uploadEntries: Int?
    /// Seconds run before measuring.
    public var warmupSeconds: Double
    /// Seconds the throughput is computed over: the run, plus the time operations still in flight at its end took;
    /// for `idle`, the time the connections took to open and log in.
    public var measuredSeconds: Double
    /// Seconds the clients took to connect and log in, before the run.
    public var setupSeconds: Double
    /// The server measured.
    public var server: ServerDescription
    /// One row per operation.
    public var operations: [OperationReport]
    /// Resident memory before and after opening the connections (`idle`).
    public var memory: MemoryReport?
    /// Processor time used during the measured window (not for `idle`).
    public var cpu: CPUReport?
    /// A few of the error messages, when operations failed.
    public var errorSamples: [String]
    /// What a reader needs to know to interpret the figures.
    public var notes: [String]

    /// Operations that failed, all kinds together.
    public var totalErrors: Int { operations.reduce(0) { $0 + $1.errors } }
}

/// Which server a bench run measured.
public struct ServerDescription: Sendable, Codable, Hashable {
    /// `host:port`.
    public var address: String
    /// Whether the bench started it in its own process (`--spawn`).
    public var spawned: Bool
    /// For a spawned server: `memory` or `file`.
    public var database: String?
    /// For a spawned server: the scrypt cost (log2 of the rounds) of the test users' password hashes.
    public var passwordCost: Int?
    /// The server's process id, when known.
    public var processID: Int32?
    /// Whether it was the protocol stub (canned replies, nothing behind them), not the real server.
    public var stub: Bool? = nil
    /// Whether the clients spoke TLS to it (`--tls`).
    public var tls: Bool? = nil
}

/// Throughput and latency of one kind of operation.
public struct OperationReport: Sendable, Codable, Hashable {
    /// The operation.
    public var operation: BenchOperation
    /// Operations that succeeded within the measured time.
    public var count: Int
    /// Successful operations per second.
    public var opsPerSecond: Double
    /// Latency percentiles of the successful operations, in microseconds.
    public var latencyMicroseconds: LatencyPercentiles
    /// Operations that failed.
    public var errors: Int
    /// For uploads: entries traced per second.
    public var entriesPerSecond: Double?
}

/// Latency percentiles, from an HdrHistogram with 3 significant digits.
public struct LatencyPercentiles: Sendable, Codable, Hashable {
    /// The median.
    public var p50: UInt64
    /// The 90th percentile.
    public var p90: UInt64
    /// The 99th percentile.
    public var p99: UInt64
    /// The largest latency recorded.
    public var max: UInt64
}

/// Resident memory (RSS) with N idle, logged-in connections open, compared with before they were opened.
public struct MemoryReport: Sendable, Codable, Hashable {
    /// Connections held open.
    public var connections: Int
    /// The server process (with `--spawn`, this process: it holds the clients' ends of the connections too).
    public var server: ResidentMemory?
    /// The bench process itself, when the server runs apart from it: the clients' side of the connections.
    public var client: ResidentMemory?

    init(connections: Int, before: MemorySample?, after: MemorySample?) {
        self.connections = connections
        if let before = before?.server, let after = after?.server {
            server = ResidentMemory(beforeBytes: before, afterBytes: after, connections: connections)
        }
        if let before = before?.client, let after = after?.client {
            client = ResidentMemory(beforeBytes: before, afterBytes: after, connections: connections)
        }
    }
}

/// Processor time (user and system) used while operations were measured: what a run costs, whatever else the machine
/// was doing at the time.
public struct CPUReport: Sendable, Codable, Hashable {
    /// Seconds measured: from the end of the warm-up until the last client finished.
    public var windowSeconds: Double
    /// The server process (with `--spawn`, this process: the clients' work is included).
    public var server: ProcessCPUUse?
    /// The bench process itself, when the server runs apart from it.
    public var client: ProcessCPUUse?

    init(before: CPUSample, after: CPUSample, window: Duration, operations: Int) {
        windowSeconds = (window.seconds * 1000).rounded() / 1000
        if let before = before.server, let after = after.server {
            server = ProcessCPUUse(seconds: after - before, window: window.seconds, operations: operations)
        }
        if let before = before.client, let after = after.client {
            client = ProcessCPUUse(seconds: after - before, window: window.seconds, operations: operations)
        }
    }
}

/// One process's processor time over the measured window.
public struct ProcessCPUUse: Sendable, Codable, Hashable {
    /// Processor seconds used.
    public var seconds: Double
    /// Cores kept busy on average (processor seconds per second).
    public var cores: Double
    /// Processor microseconds per operation (successful or not).
    public var microsecondsPerOperation: Double

    init(seconds: Double, window: Double, operations: Int) {
        self.seconds = (seconds * 100).rounded() / 100
        cores = (seconds / max(window, 1e-9) * 100).rounded() / 100
        microsecondsPerOperation = (seconds * 1e6 / Double(max(1, operations)) * 10).rounded() / 10
    }
}

/// One process's resident memory before and after opening the connections.
public struct ResidentMemory: Sendable, Codable, Hashable {
    /// Bytes resident before the connections were opened.
    public var beforeBytes: Int
    /// Bytes resident with the connections open and logged in.
    public var afterBytes: Int
    /// The growth divided by the number of connections.
    public var perConnectionBytes: Int

    init(beforeBytes: Int, afterBytes: Int, connections: Int) {
        self.beforeBytes = beforeBytes
        self.afterBytes = afterBytes
        self.perConnectionBytes = (afterBytes - beforeBytes) / max(1, connections)
    }
}

extension BenchScenario: Codable {}

extension BenchReport {
    /// The report as pretty-printed JSON (latencies in microseconds).
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// The report as a table for people (latencies in milliseconds).
    public func table() -> String {
        var lines: [String] = []
        var header = "bluetrace bench: \(scenario), \(clients) client\(clients == 1 ? "" : "s")"
        if scenario == BenchScenario.idle.rawValue {
            header += ", connections opened and logged in in \(Self.seconds(setupSeconds))"
        } else {
            if scenario != BenchScenario.login.rawValue {
                header += ", \(pipeline) request\(pipeline == 1 ? "" : "s") in flight per connection"
            }
            if let uploadEntries { header += ", \(uploadEntries) entries per upload" }
            header += ", \(Self.seconds(measuredSeconds)) measured after a \(Self.seconds(warmupSeconds)) warm-up"
        }
        lines.append(header)
        var serverLine = "server: \(server.address)"
        if server.stub == true {
            serverLine +=
                ", the protocol stub started in this process (--stub-server): canned replies, no store, "
                + "no hashing; the ceiling of the transport, not a server's speed"
        } else if server.spawned {
            serverLine += ", started in this process (--spawn), \(server.database ?? "file") database"
            if let cost = server.passwordCost {
                serverLine += ", scrypt cost \(cost) for speed (bluetrace server's default is 15)"
            }
        } else if let pid = server.processID {
            serverLine += ", process \(pid)"
        }
        if server.tls == true { serverLine += ", over TLS" }
        lines.append(serverLine)
        lines.append("")
        let columns = ["operation", "count", "ops/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors"]
        var rows = [columns]
        for row in operations {
            rows.append([
                row.operation.rawValue, "\(row.count)",
                String(format: row.opsPerSecond < 10 ? "%.3f" : "%.1f", row.opsPerSecond),
                Self.milliseconds(row.latencyMicroseconds.p50), Self.milliseconds(row.latencyMicroseconds.p90),
                Self.milliseconds(row.latencyMicroseconds.p99), Self.milliseconds(row.latencyMicroseconds.max),
                "\(row.errors)",
            ])
        }
        let widths = columns.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            lines.append(
                row.enumerated().map { column, cell in
                    let padding = String(repeating: " ", count: widths[column] - cell.count)
                    return column == 0 ? cell + padding : padding + cell
                }.joined(separator: "  "))
        }
        for row in operations {
            if let entries = row.entriesPerSecond {
                lines.append("\(row.operation.rawValue): \(String(format: "%.0f", entries)) entries traced per second")
            }
        }
        if let memory {
            lines.append("")
            lines.append("resident memory with \(memory.connections) idle logged-in connections:")
            if let server = memory.server {
                let whose = self.server.spawned ? "server and clients (one process)" : "server"
                lines.append("  \(whose): \(Self.describe(server))")
            }
            if let client = memory.client {
                lines.append("  clients (this process): \(Self.describe(client))")
            }
        }
        if let cpu {
            lines.append("")
            lines.append("processor time during the measured \(Self.seconds(cpu.windowSeconds)):")
            if let server = cpu.server {
                let whose = self.server.spawned ? "server and clients (one process)" : "server"
                lines.append("  \(whose): \(Self.describe(server))")
            }
            if let client = cpu.client {
                lines.append("  clients (this process): \(Self.describe(client))")
            }
        }
        if !notes.isEmpty {
            lines.append("")
            lines += notes
        }
        if !errorSamples.isEmpty {
            lines.append("")
            lines.append("\(totalErrors) operation\(totalErrors == 1 ? "" : "s") failed; for example:")
            lines += errorSamples.map { "  \($0)" }
        }
        return lines.joined(separator: "\n")
    }

    private static func milliseconds(_ microseconds: UInt64) -> String {
        String(format: "%.3f", Double(microseconds) / 1000)
    }

    private static func seconds(_ seconds: Double) -> String {
        String(format: "%.1f s", seconds)
    }

    private static func mebibytes(_ bytes: Int) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }

    private static func describe(_ cpu: ProcessCPUUse) -> String {
        String(
            format: "%.2f s, %.2f cores, %.1f µs per operation", cpu.seconds, cpu.cores, cpu.microsecondsPerOperation)
    }

    private static func describe(_ memory: ResidentMemory) -> String {
        "\(mebibytes(memory.beforeBytes)) before, \(mebibytes(memory.afterBytes)) after: "
            + String(format: "%.1f KiB", Double(memory.perConnectionBytes) / 1024) + " per connection"
    }
}
