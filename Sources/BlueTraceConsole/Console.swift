import BlueTraceAuthority
import BlueTraceCharts
import BlueTraceDomain
import BlueTraceSecurity
import BlueTraceStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix

/// The health officials' console: log in (locked out after repeated failures), the cases (uploads, newest first,
/// paginated), one case with its traced contacts and a contact graph, issuing a one-time upload code, and the audit
/// trail. Server-rendered HTML, no scripts; every form carries the session's CSRF token; every page an official opens
/// is written to the audit trail.
struct Console: Sendable {
    static let sessionCookie = "bluetrace_session"
    static let loginCookie = "bluetrace_login"
    /// Largest form body accepted, in bytes.
    static let maximumFormSize = 16_384

    let configuration: OperationsConfiguration
    let store: any AuthorityStore
    let authority: HealthAuthority
    let metrics: OperationsMetrics
    let clock: any WallClock
    let format: TimestampFormat
    let logger: Logger
    let sessions: ConsoleSessions
    let pages: ConsolePages
    let hasher = PasswordHasher()
    /// Verified when the name is unknown, so a wrong name costs as long as a wrong password.
    let dummyHash: String

    init(
        configuration: OperationsConfiguration, store: any AuthorityStore, authority: HealthAuthority,
        metrics: OperationsMetrics, clock: any WallClock, format: TimestampFormat, logger: Logger
    ) {
        self.configuration = configuration
        self.store = store
        self.authority = authority
        self.metrics = metrics
        self.clock = clock
        self.format = format
        self.logger = logger
        self.sessions = ConsoleSessions(lifetime: configuration.sessionLifetime)
        self.pages = ConsolePages()
        // As costly as an official's real hash, so an unknown name takes as long to refuse as a wrong password.
        self.dummyHash =
            (try? PasswordHasher(parameters: configuration.officialPasswordParameters).hash(
                ConsoleSessions.randomToken())) ?? ""
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in Response.redirect(to: "/console/cases") }
        router.get("/console") { _, _ in Response.redirect(to: "/console/cases") }
        router.get("/console/login") { request, _ in loginForm(request, message: nil, status: .ok) }
        router.post("/console/login") { request, _ in try await logIn(request) }
        router.post("/console/logout") { request, _ in
            try await withForm(request) { session, _ in
                sessions.end(session.token)
                var response = Response.redirect(to: "/console/login")
                response.setCookie(cookie(Self.sessionCookie, "", maxAge: 0, request: request))
                return response
            }
        }
        router.get("/console/cases") { request, _ in
            try await withSession(request) { session in try await cases(request, session) }
        }
        router.get("/console/cases/{id}") { request, context in
            try await withSession(request) { session in
                try await oneCase(context.parameters.get("id").flatMap { Int64($0) }, session)
            }
        }
        router.get("/console/codes") { request, _ in
            try await withSession(request) { session in
                html(pages.render("codes", base(session, title: "Issue an upload code", section: "codes")))
            }
        }
        router.post("/console/codes") { request, _ in
            try await withForm(request) { session, form in try await issueCode(form["phone"] ?? "", session) }
        }
        router.get("/console/audit") { request, _ in
            try await withSession(request) { session in try await audit(request, session) }
        }
    }

    // MARK: Logging in

    private func loginForm(
        _ request: Request, message: String?, status: HTTPResponse.Status, name: String = ""
    ) -> Response {
        let token = ConsoleSessions.randomToken()
        var response = html(
            pages.render(
                "login",
                ["title": "Log in", "csrf": token, "message": message as Any, "name": name]),
            status: status)
        response.setCookie(cookie(Self.loginCookie, token, maxAge: 900, request: request))
        return response
    }

    private func logIn(_ request: Request) async throws -> Response {
        let form: [String: String]
        switch await Self.readForm(request) {
        case .success(let read): form = read
        case .failure(let refusal): return refusal.response
        }
        guard let expected = request.cookies[Self.loginCookie]?.value, let sent = form["csrf"],
            ConsoleSessions.constantTimeEqual(expected, sent)
        else {
            return loginForm(
                request,
                message: "The login form expired or did not come from this console; please log in again.",
                status: .forbidden)
        }
        let name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        let password = form["password"] ?? ""
        let now = clock.now()
        guard !name.isEmpty, !password.isEmpty else {
            return loginForm(request, message: "Enter your name and password.", status: .badRequest)
        }
        let official = try await store.official(named: name)
        if let until = official?.loginState.blockEnd(at: now) {
            return try await refuseLocked(request, name: name, until: until, now: now)
        }
        let hash = official?.passwordHash ?? dummyHash
        let matches = try await NIOThreadPool.singleton.runIfActive { [hasher] in hasher.verify(password, against: hash)
        }
        guard official != nil else {
            metrics.consoleLogin("refused")
            try await store.recordAudit([
                AuditEntry(at: now, actor: name, action: .consoleLogin, subject: nil, detail: "refused: unknown name")
            ])
            return loginForm(request, message: "Wrong name or password.", status: .unauthorized, name: name)
        }
        let decision = try await store.updateOfficialLoginState(for: name, at: now) { [configuration] state in
            state.attempt(passwordMatches: matches, at: now, policy: configuration.loginPolicy)
        }
        switch decision {
        case .accepted?:
            metrics.consoleLogin("accepted")
            try await store.recordAudit([
                AuditEntry(at: now, actor: name, action: .consoleLogin, subject: nil, detail: "accepted")
            ])
            let session = sessions.start(for: name, at: now)
            var response = Response.redirect(to: "/console/cases")
            response.setCookie(
                cookie(Self.sessionCookie, session.token, maxAge: Int(configuration.sessionLifetime), request: request))
            response.setCookie(cookie(Self.loginCookie, "", maxAge: 0, request: request))
            return response
        case .blocked(let until)?, .blockedNow(let until)?:
            return try await refuseLocked(request, name: name, until: until, now: now)
        case .rejected(let remaining)?:
            metrics.consoleLogin("refused")
            try await store.recordAudit([
                AuditEntry(
                    at: now, actor: name, action: .consoleLogin, subject: nil,
                    detail: "refused: wrong password, \(remaining) attempts left")
            ])
            return loginForm(request, message: "Wrong name or password.", status: .unauthorized, name: name)
        case nil:
            return loginForm(request, message: "Wrong name or password.", status: .unauthorized, name: name)
        }
    }

    private func refuseLocked(
        _ request: Request, name: String, until: Timestamp, now: Timestamp
    ) async throws
        -> Response
    {
        metrics.consoleLogin("locked")
        try await store.recordAudit([
            AuditEntry(
                at: now, actor: name, action: .consoleLogin, subject: nil,
                detail: "refused: locked until \(format.string(from: until))")
        ])
        return loginForm(
            request,
            message: "Too many failed logins: this account is locked until \(format.string(from: until)).",
            status: .tooManyRequests, name: name)
    }

    // MARK: Sessions and forms

    /// Runs `body` for a logged-in official, after recording the page in the audit trail; without a session, sends
    /// the browser to the login page.
    private func withSession(
        _ request: Request, _ body: (ConsoleSessions.Session) async throws -> Response
    ) async throws -> Response {
        let now = clock.now()
        guard let session = sessions.session(for: request.cookies[Self.sessionCookie]?.value, at: now) else {
            return Response.redirect(to: "/console/login")
        }
        try await store.recordAudit([
            AuditEntry(
                at: now, actor: session.official, action: .consoleView, subject: Self.pageName(request),
                detail: "\(request.method)")
        ])
        return try await body(session)
    }

    /// Runs `body` with a posted form of a logged-in official whose CSRF token matches the session's; refuses it
    /// otherwise (403: the form did not come from this session).
    private func withForm(
        _ request: Request, _ body: (ConsoleSessions.Session, [String: String]) async throws -> Response
    ) async throws -> Response {
        guard sessions.session(for: request.cookies[Self.sessionCookie]?.value, at: clock.now()) != nil else {
            return Response.redirect(to: "/console/login")
        }
        let form: [String: String]
        switch await Self.readForm(request) {
        case .success(let read): form = read
        case .failure(let refusal): return refusal.response
        }
        return try await withSession(request) { session in
            guard let sent = form["csrf"], ConsoleSessions.constantTimeEqual(sent, session.csrf) else {
                return error(
                    session, status: .forbidden, title: "Form refused",
                    message:
                        "This form did not come from your session (its security token is missing or wrong). Go back, reload the page and try again."
                )
            }
            return try await body(session, form)
        }
    }

    /// Why a posted body was not read.
    struct FormRefusal: Error {
        var response: Response
    }

    /// The fields of a posted `application/x-www-form-urlencoded` body.
    static func readForm(_ request: Request) async -> Result<[String: String], FormRefusal> {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maximumFormSize)
        } catch {
            return .failure(
                FormRefusal(
                    response: OperationsServer.plain(
                        "The form is larger than \(maximumFormSize) bytes.\n", status: .contentTooLarge)))
        }
        return .success(parseForm(String(buffer: body)))
    }

    /// Parses `a=1&b=two+words`; a field without `=` is empty; the first of repeated fields counts.
    static func parseForm(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                let spaced = part.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let name = decode(parts[0])
            if fields[name] == nil { fields[name] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return fields
    }

    /// The page as the audit trail names it: its path and query.
    static func pageName(_ request: Request) -> String {
        request.uri.query.map { "\(request.uri.path)?\($0)" } ?? request.uri.path
    }

    private func cookie(_ name: String, _ value: String, maxAge: Int, request: Request) -> Cookie {
        let secure =
            configuration.secureCookies || configuration.tls != nil
            || request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https"
        return Cookie(
            name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    // MARK: Pages

    /// What every page of a session shows: its title, the official, the logout form's token, the section.
    private func base(_ session: ConsoleSessions.Session, title: String, section: String) -> [String: Any] {
        [
            "title": title, "official": session.official, "csrf": session.csrf, "loggedIn": true,
            "inCases": section == "cases", "inCodes": section == "codes", "inAudit": section == "audit",
        ]
    }

    private func error(
        _ session: ConsoleSessions.Session?, status: HTTPResponse.Status, title: String, message: String
    ) -> Response {
        var values: [String: Any] = session.map { base($0, title: title, section: "") } ?? ["title": title]
        values["message"] = message
        return html(pages.render("error", values), status: status)
    }

    /// The page number asked for in `?page=`: 1 when absent; `nil` when it is not a whole number from 1.
    static func pageNumber(_ request: Request) -> Int?? {
        guard let text = request.uri.queryParameters["page"] else { return .some(1) }
        guard let number = Int(text), number >= 1, number <= 1_000_000 else { return .none }
        return .some(number)
    }

    private func pagination(page: Int, pages: Int, path: String) -> [String: Any] {
        [
            "page": page, "pages": pages,
            "previous": page > 1 ? "\(path)?page=\(page - 1)" : false,
            "next": page < pages ? "\(path)?page=\(page + 1)" : false,
        ]
    }

    private func badPage(_ session: ConsoleSessions.Session, _ request: Request) -> Response {
        error(
            session, status: .badRequest, title: "No such page",
            message:
                "“\(request.uri.queryParameters["page"].map(String.init) ?? "")” is not a page number: pages are numbered from 1."
        )
    }

    private func cases(_ request: Request, _ session: ConsoleSessions.Session) async throws -> Response {
        guard let page = Self.pageNumber(request) ?? nil else { return badPage(session, request) }
        let size = configuration.pageSize
        let result = try await store.uploads(offset: (page - 1) * size, limit: size)
        let pageCount = max(1, (result.total + size - 1) / size)
        guard page <= pageCount else {
            return error(
                session, status: .notFound, title: "No such page",
                message: "There is no page \(page): the cases fill \(pageCount) page\(pageCount == 1 ? "" : "s").")
        }
        var values = base(session, title: "Cases", section: "cases")
        values["total"] = "\(result.total) \(result.total == 1 ? "upload" : "uploads")"
        values["cases"] = result.uploads.map { upload -> [String: Any] in
            [
                "id": "\(upload.id)", "uploader": upload.uploader, "received": format.string(from: upload.receivedAt),
                "entries": upload.entries, "traced": upload.traced,
            ]
        }
        values["empty"] = result.uploads.isEmpty
        values.merge(pagination(page: page, pages: pageCount, path: "/console/cases")) { $1 }
        return html(pages.render("cases", values))
    }

    private func oneCase(_ id: Int64?, _ session: ConsoleSessions.Session) async throws -> Response {
        guard let id, let upload = try await store.upload(id: id) else {
            return error(
                session, status: .notFound, title: "No such case",
                message:
                    "There is no case \(id.map(String.init) ?? "with that number") (never uploaded, or deleted by retention)."
            )
        }
        let contacts = upload.tracedContacts.sorted { ($0.firstEncounter, $0.phone) < ($1.firstEncounter, $1.phone) }
        let notices = try await store.noticeStatuses(for: contacts.map(\.phone), since: upload.receivedAt)
        var values = base(session, title: "Case \(id)", section: "cases")
        values["id"] = "\(id)"
        values["uploader"] = upload.uploader
        values["received"] = format.string(from: upload.receivedAt)
        values["entries"] = upload.encounters.count
        values["contactCount"] = contacts.count
        values["noContacts"] = contacts.isEmpty
        values["contacts"] = contacts.map { contact -> [String: Any] in
            let notice: String
            if let status = notices[contact.phone] {
                notice =
                    status.deliveredAt.map { "delivered \(format.string(from: $0))" }
                    ?? "pending since \(format.string(from: status.createdAt))"
            } else {
                notice = "none"
            }
            return [
                "phone": contact.phone, "first": format.string(from: contact.firstEncounter),
                "last": format.string(from: contact.lastEncounter), "count": contact.encounters, "notice": notice,
            ]
        }
        values["graph"] = ContactGraph(uploader: upload.uploader, contacts: contacts).svg()
        return html(pages.render("case", values))
    }

    private func issueCode(_ phone: String, _ session: ConsoleSessions.Session) async throws -> Response {
        let phone = phone.trimmingCharacters(in: .whitespaces)
        var values = base(session, title: "Issue an upload code", section: "codes")
        values["phone"] = phone
        guard !phone.isEmpty else {
            values["message"] = "Enter the phone number of the person who tested positive."
            return html(pages.render("codes", values), status: .badRequest)
        }
        do {
            let (code, expiresAt) = try await authority.issueUploadCode(to: phone, by: session.official)
            values["code"] = code
            values["expires"] = format.string(from: expiresAt)
            return html(pages.render("code", values))
        } catch let error as UploadCodeError {
            values["message"] = error.description
            switch error {
            case .notConfigured: return html(pages.render("codes", values), status: .serviceUnavailable)
            case .unknownPhone, .invalidLifetime: return html(pages.render("codes", values), status: .badRequest)
            }
        }
    }

    private func audit(_ request: Request, _ session: ConsoleSessions.Session) async throws -> Response {
        guard let page = Self.pageNumber(request) ?? nil else { return badPage(session, request) }
        let size = configuration.pageSize
        let result = try await store.auditPage(offset: (page - 1) * size, limit: size)
        let pageCount = max(1, (result.total + size - 1) / size)
        guard page <= pageCount else {
            return error(
                session, status: .notFound, title: "No such page",
                message:
                    "There is no page \(page): the audit trail fills \(pageCount) page\(pageCount == 1 ? "" : "s")."
            )
        }
        var values = base(session, title: "Audit trail", section: "audit")
        values["total"] = "\(result.total) \(result.total == 1 ? "entry" : "entries")"
        values["entries"] = result.entries.map { entry -> [String: Any] in
            [
                "at": format.string(from: entry.at), "actor": entry.actor, "action": entry.action.rawValue,
                "subject": entry.subject ?? "–", "detail": entry.detail,
            ]
        }
        values.merge(pagination(page: page, pages: pageCount, path: "/console/audit")) { $1 }
        return html(pages.render("audit", values))
    }

    // MARK: Responses

    private func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
