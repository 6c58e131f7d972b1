import BlueTraceAuthority
import BlueTraceConsole
import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceServer
import BlueTraceStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore

/// A console over a real SQLite store and core, with a manual clock, driven without sockets (HummingbirdTesting's
/// router framework).
struct ConsoleFixture {
    static let t0 = Timestamp(secondsSinceEpoch: 1_764_590_400)
    static let officialPassword = "correct horse battery"
    static let fastHash = PasswordHasher.Parameters(logRounds: 4, blockSize: 8, parallelism: 1)

    let clock = ManualWallClock(t0)
    let store: any AuthorityStore
    let metrics = OperationsMetrics()
    let application: ServerApplication
    let configuration: OperationsConfiguration

    init(
        store: (any AuthorityStore)? = nil, pageSize: Int = 20, uploadCodes: UploadCodeUse = .available,
        exposureNotices: CloseContactRule? = nil
    ) async throws {
        let metrics = self.metrics
        configuration = OperationsConfiguration(
            port: 0, sessionLifetime: 600, pageSize: pageSize, officialPasswordParameters: Self.fastHash)
        application = try await ServerApplication.open(
            configuration: ServerConfiguration(
                port: 0, blockDuration: 60, credentialsPath: nil, tempIDsPath: nil, databasePath: ":memory:",
                keyFilePath: nil, passwordParameters: Self.fastHash, uploadCodes: uploadCodes,
                exposureNotices: exposureNotices),
            store: try store ?? SQLiteStore(), clock: clock, observers: [metrics],
            decorateStore: { TimedStore($0, metrics: metrics) }, logger: Logger(label: "test"))
        self.store = application.store
        _ = try await self.store.createOfficial(
            name: "dr.lee", passwordHash: try PasswordHasher(parameters: Self.fastHash).hash(Self.officialPassword),
            at: Self.t0)
    }

    var app: some ApplicationProtocol {
        Application(
            router: OperationsServer.router(
                configuration: configuration, store: store, authority: application.authority, metrics: metrics,
                clock: clock, logger: Logger(label: "test")))
    }

    /// A form body.
    static func form(_ fields: [(String, String)]) -> ByteBuffer {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return ByteBuffer(
            string: fields.map {
                "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)"
            }.joined(separator: "&"))
    }

    static let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    /// The value of the hidden `csrf` field in a page.
    static func csrf(in page: String) -> String? {
        guard let range = page.range(of: #"name="csrf" value="([0-9a-f]{64})""#, options: .regularExpression) else {
            return nil
        }
        return String(page[range].dropFirst(#"name="csrf" value=""#.count).prefix(64))
    }

    /// The `name=value` of cookie `name` set by a response.
    static func cookie(_ name: String, in response: TestResponse) -> String? {
        response.headers[values: .setCookie].first { $0.hasPrefix(name + "=") }.map {
            String($0.prefix { $0 != ";" })
        }
    }

    /// A logged-in session: its cookie header and CSRF token.
    struct Session {
        var cookie: String
        var csrf: String
        var headers: HTTPFields { [.cookie: cookie] }
        var formHeaders: HTTPFields { [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"] }
    }

    /// Logs in as `name` through the login form, as a browser would.
    static func logIn(
        _ client: some TestClientProtocol, name: String = "dr.lee", password: String = officialPassword
    ) async throws -> TestResponse {
        let form = try await client.execute(uri: "/console/login", method: .get)
        let loginCookie = cookie("bluetrace_login", in: form)!
        let token = csrf(in: String(buffer: form.body))!
        return try await client.execute(
            uri: "/console/login", method: .post,
            headers: [.cookie: loginCookie, .contentType: "application/x-www-form-urlencoded"],
            body: Self.form([("csrf", token), ("name", name), ("password", password)]))
    }

    /// Logs in and opens the cases page, returning the session.
    static func session(_ client: some TestClientProtocol) async throws -> Session {
        let response = try await logIn(client)
        let cookie = cookie("bluetrace_session", in: response)!
        let page = try await client.execute(uri: "/console/cases", method: .get, headers: [.cookie: cookie])
        return Session(cookie: cookie, csrf: csrf(in: String(buffer: page.body))!)
    }
}
