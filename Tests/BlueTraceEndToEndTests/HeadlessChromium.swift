import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Debian's Chromium, headless, driven through the DevTools protocol over `--remote-debugging-pipe` (commands on file
/// descriptor 3, replies and events on 4, each message JSON ended by a NUL byte): no WebSocket and no JavaScript
/// framework; the test navigates, fills and submits the console's real forms and reads the pages the server sent.
final class HeadlessChromium: Sendable {
    /// The browser binary, if installed (`apt-get install chromium`).
    static let executable: String? = ["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Why a browser step failed.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private struct State {
        var nextID = 1
        var replies: [Int: CheckedContinuation<[String: any Sendable], any Error>] = [:]
        var loads = 0
        var loadWaiters: [(count: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var ended = false
    }

    private let pid: pid_t
    private let commands: Int32
    private let state = Mutex(State())
    /// The page's DevTools session.
    private let session = Mutex<String?>(nil)
    private let profile: String

    /// Starts the browser with a fresh profile and a phone-sized window, and attaches to its page.
    init() async throws {
        guard let executable = Self.executable else { throw Failure(description: "chromium is not installed") }
        profile = NSTemporaryDirectory() + "bluetrace-chromium-\(UUID().uuidString)"
        var toBrowser: [Int32] = [0, 0]
        var fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw Failure(description: "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, toBrowser[0], 3)
        posix_spawn_file_actions_adddup2(&actions, fromBrowser[1], 4)
        let arguments = [
            executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--remote-debugging-pipe",
            "--user-data-dir=\(profile)", "--window-size=412,900", "about:blank",
        ]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, &argv, environ)
        Glibc.close(toBrowser[0])
        Glibc.close(fromBrowser[1])
        guard spawned == 0 else {
            Glibc.close(toBrowser[1])
            Glibc.close(fromBrowser[0])
            throw Failure(description: "could not start \(executable): \(String(cString: strerror(spawned)))")
        }
        self.pid = pid
        self.commands = toBrowser[1]
        let replies = fromBrowser[0]
        let thread = Thread { [self] in self.readReplies(from: replies) }
        thread.name = "chromium-devtools"
        thread.start()

        let targets = try await send("Target.getTargets", [:], inSession: false)
        guard
            let infos = targets["targetInfos"] as? [[String: any Sendable]],
            let page = infos.first(where: { $0["type"] as? String == "page" })?["targetId"] as? String
        else { throw Failure(description: "the browser has no page: \(targets)") }
        let attached = try await send("Target.attachToTarget", ["targetId": page, "flatten": true], inSession: false)
        session.withLock { $0 = attached["sessionId"] as? String }
        _ = try await send("Page.enable", [:])
        _ = try await send(
            "Emulation.setDeviceMetricsOverride",
            ["width": 412, "height": 900, "deviceScaleFactor": 1, "mobile": true])
    }

    /// Ends the browser and removes its profile.
    func close() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        Glibc.close(commands)
        try? FileManager.default.removeItem(atPath: profile)
    }

    // MARK: Pages

    /// Opens `url` and waits until it has loaded.
    func open(_ url: String) async throws {
        try await waitingForLoad { _ = try await self.send("Page.navigate", ["url": url]) }
    }

    /// Runs `script` in the page and returns its value (a string, number, boolean, or JSON-able value).
    @discardableResult
    func evaluate(_ script: String) async throws -> (any Sendable)? {
        let reply = try await send("Runtime.evaluate", ["expression": script, "returnByValue": true])
        if let exception = reply["exceptionDetails"] { throw Failure(description: "script failed: \(exception)") }
        return (reply["result"] as? [String: any Sendable])?["value"]
    }

    /// Runs `script` (which submits a form or follows a link) and waits for the page it leads to.
    func navigating(by script: String) async throws {
        try await waitingForLoad { try await self.evaluate(script) }
    }

    /// The text of the page as shown.
    func text() async throws -> String { try await evaluate("document.body.innerText") as? String ?? "" }

    /// The page's address.
    func location() async throws -> String { try await evaluate("location.href") as? String ?? "" }

    /// A PNG of the whole page.
    func screenshot() async throws -> Data {
        let reply = try await send("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true])
        guard let base64 = reply["data"] as? String, let data = Data(base64Encoded: base64) else {
            throw Failure(description: "no screenshot in \(reply.keys)")
        }
        return data
    }

    private func waitingForLoad(_ action: @Sendable () async throws -> Void) async throws {
        let before = state.withLock { $0.loads }
        try await action()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { continuation in
                    let ready = self.state.withLock { state -> Bool in
                        if state.loads > before { return true }
                        state.loadWaiters.append((before, continuation))
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(30))
                throw Failure(description: "the page did not load within 30 s")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    // MARK: The protocol

    private func send(
        _ method: String, _ parameters: [String: any Sendable], inSession: Bool = true
    ) async throws -> [String: any Sendable] {
        let sessionID = inSession ? session.withLock { $0 } : nil
        return try await withCheckedThrowingContinuation { continuation in
            let id = state.withLock { state -> Int? in
                guard !state.ended else { return nil }
                let id = state.nextID
                state.nextID += 1
                state.replies[id] = continuation
                return id
            }
            guard let id else {
                continuation.resume(throwing: Failure(description: "the browser has ended"))
                return
            }
            var message: [String: Any] = ["id": id, "method": method, "params": parameters]
            if let sessionID { message["sessionId"] = sessionID }
            var bytes = [UInt8]((try? JSONSerialization.data(withJSONObject: message)) ?? Data())
            bytes.append(0)
            let written = bytes.withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
            if written != bytes.count {
                let waiting = state.withLock { $0.replies.removeValue(forKey: id) }
                waiting?.resume(throwing: Failure(description: "could not write to the browser"))
            }
        }
    }

    /// Reads NUL-ended messages until the browser closes its end; answers commands and counts page loads.
    private func readReplies(from descriptor: Int32) {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            pending.append(contentsOf: buffer[0..<count])
            while let end = pending.firstIndex(of: 0) {
                let message = Data(pending[..<end])
                pending.removeSubrange(...end)
                guard let object = try? JSONSerialization.jsonObject(with: message) as? [String: Any] else { continue }
                handle(object)
            }
        }
        Glibc.close(descriptor)
        let (replies, waiters) = state.withLock { state in
            state.ended = true
            defer {
                state.replies = [:]
                state.loadWaiters = []
            }
            return (Array(state.replies.values), state.loadWaiters.map(\.continuation))
        }
        for reply in replies { reply.resume(throwing: Failure(description: "the browser ended")) }
        for waiter in waiters { waiter.resume(throwing: Failure(description: "the browser ended")) }
    }

    private func handle(_ object: [String: Any]) {
        if let id = object["id"] as? Int {
            let continuation = state.withLock { $0.replies.removeValue(forKey: id) }
            if let error = object["error"] {
                continuation?.resume(throwing: Failure(description: "DevTools error: \(error)"))
            } else {
                continuation?.resume(returning: Self.sendable(object["result"]) as? [String: any Sendable] ?? [:])
            }
        } else if object["method"] as? String == "Page.loadEventFired" {
            let ready = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
                state.loads += 1
                let ready = state.loadWaiters.filter { $0.count < state.loads }.map(\.continuation)
                state.loadWaiters.removeAll { $0.count < state.loads }
                return ready
            }
            for continuation in ready { continuation.resume() }
        }
    }

    /// JSON values as Sendable ones.
    private static func sendable(_ value: Any?) -> (any Sendable)? {
        switch value {
        case let dictionary as [String: Any]: dictionary.mapValues { sendable($0) ?? "" }
        case let array as [Any]: array.map { sendable($0) ?? "" }
        case let string as String: string
        case let number as NSNumber: number.doubleValue
        case let bool as Bool: bool
        default: nil
        }
    }
}
