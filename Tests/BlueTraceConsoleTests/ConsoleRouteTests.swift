import BlueTraceConsole
import BlueTraceDomain
import BlueTraceStore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Every console route, without sockets: authentication required, CSRF refused, lockout, pagination, the pages.
@Suite("Console routes")
struct ConsoleRouteTests {
    typealias F = ConsoleFixture

    @Test("Every page and form needs a session: without one the browser is sent to the login page")
    func authenticationRequired() async throws {
        let fixture = try await F()
        try await fixture.app.test(.router) { client in
            for (uri, method) in [
                ("/console/cases", HTTPRequest.Method.get), ("/console/cases/1", .get), ("/console/codes", .get),
                ("/console/audit", .get), ("/console/codes", .post), ("/console/logout", .post),
            ] {
                try await client.execute(
                    uri: uri, method: method,
                    headers: [.cookie: "bluetrace_session=" + String(repeating: "0", count: 64)]
                ) { response in
                    #expect(response.status == .seeOther, "\(method) \(uri)")
                    #expect(response.headers[.location] == "/console/login", "\(method) \(uri)")
                }
            }
            for uri in ["/", "/console"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .seeOther, "\(uri)")
                    #expect(response.headers[.location] == "/console/cases", "\(uri)")
                }
            }
        }
        #expect(try await fixture.store.auditTrail(since: nil).isEmpty, "nothing was shown, so nothing audited")
    }

    @Test("Logging in sets an HttpOnly, SameSite=Strict session cookie that expires; it ends with logout")
    func loginAndSession() async throws {
        let fixture = try await F()
        try await fixture.app.test(.router) { client in
            let form = try await client.execute(uri: "/console/login", method: .get)
            #expect(form.status == .ok)
            let loginCookie = try #require(form.headers[values: .setCookie].first { $0.hasPrefix("bluetrace_login=") })
            #expect(loginCookie.contains("HttpOnly") && loginCookie.contains("SameSite=Strict"))
            #expect(!loginCookie.contains("Secure"), "plain HTTP on loopback: not Secure")
            #expect(form.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)

            let response = try await F.logIn(client)
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/console/cases")
            let cookie = try #require(response.headers[values: .setCookie].first { $0.hasPrefix("bluetrace_session=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Max-Age=600"))
            let session = F.cookie("bluetrace_session", in: response)!
            let cases = try await client.execute(uri: "/console/cases", method: .get, headers: [.cookie: session])
            #expect(cases.status == .ok)
            #expect(String(buffer: cases.body).contains("Log out dr.lee"))

            fixture.clock.advance(by: 601)
            try await client.execute(uri: "/console/cases", method: .get, headers: [.cookie: session]) {
                #expect($0.status == .seeOther, "the session expired")
            }

            let again = try await F.session(client)
            try await client.execute(
                uri: "/console/logout", method: .post, headers: again.formHeaders, body: F.form([("csrf", again.csrf)])
            ) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[values: .setCookie].contains { $0.hasPrefix("bluetrace_session=;") })
            }
            try await client.execute(uri: "/console/cases", method: .get, headers: again.headers) {
                #expect($0.status == .seeOther, "logged out")
            }
        }
    }

    @Test("Logging out needs the session's CSRF token: without it, or with another, the session stays up")
    func logoutNeedsItsToken() async throws {
        let fixture = try await F()
        try await fixture.app.test(.router) { client in
            let session = try await F.session(client)
            let other = try await F.session(client)
            #expect(other.csrf != session.csrf)
            for fields in [[], [("csrf", other.csrf)], [("csrf", String(repeating: "c", count: 64))]] {
                try await client.execute(
                    uri: "/console/logout", method: .post, headers: session.formHeaders, body: F.form(fields)
                ) { response in
                    #expect(response.status == .forbidden, "\(fields)")
                    #expect(!response.headers[values: .setCookie].contains { $0.hasPrefix("bluetrace_session=;") })
                }
            }
            try await client.execute(uri: "/console/cases", method: .get, headers: session.headers) {
                #expect($0.status == .ok, "a refused logout leaves the session as it was")
            }
        }
    }

    @Test("A login forwarded over HTTPS gets a Secure cookie")
    func secureCookie() async throws {
        let fixture = try await F()
        try await fixture.app.test(.router) { client in
            let form = try await client.execute(
                uri: "/console/login", method: .get, headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            #expect(form.headers[values: .setCookie].allSatisfy { $0.contains("; Secure") })
        }
    }

    @Test("Bad logins: a wrong password, an unknown name, a phone account, a missing or foreign CSRF token")
    func badLogins() async throws {
        let fixture = try await F()
        _ = try await fixture.application.authority.register(username: "+61410000001", password: "password1")
        try await fixture.app.test(.router) { client in
            #expect(try await F.logIn(client, password: "nope").status == .unauthorized)
            #expect(try await F.logIn(client, name: "nobody").status == .unauthorized)
            let phone = try await F.logIn(client, name: "+61410000001", password: "password1")
            #expect(phone.status == .unauthorized, "a phone account is not an official")
            #expect(String(buffer: phone.body).contains("Wrong name or password."))
            #expect(String(buffer: phone.body).contains(#"value="+61410000001""#), "the name typed is kept")
            let form = try await client.execute(uri: "/console/login", method: .get)
            let loginCookie = F.cookie("bluetrace_login", in: form)!
            for body in [
                F.form([("name", "dr.lee"), ("password", F.officialPassword)]),
                F.form([
                    ("csrf", String(repeating: "a", count: 64)), ("name", "dr.lee"), ("password", F.officialPassword),
                ]),
            ] {
                try await client.execute(
                    uri: "/console/login", method: .post,
                    headers: [.cookie: loginCookie, .contentType: "application/x-www-form-urlencoded"], body: body
                ) { response in
                    #expect(response.status == .forbidden)
                    #expect(String(buffer: response.body).contains("did not come from this console"))
                    #expect(F.cookie("bluetrace_session", in: response) == nil)
                }
            }
            try await client.execute(
                uri: "/console/login", method: .post, headers: F.formHeaders,
                body: F.form([("csrf", F.csrf(in: String(buffer: form.body))!), ("name", "dr.lee")])
            ) { #expect($0.status == .forbidden, "no login cookie: the token cannot be checked") }
            try await client.execute(
                uri: "/console/login", method: .post,
                headers: [.cookie: loginCookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(repeating: UInt8(ascii: "a"), count: 20_000)
            ) { #expect($0.status == .contentTooLarge) }
        }
        let logins = try await fixture.store.auditTrail(since: nil).filter { $0.action == .consoleLogin }
        #expect(logins.map(\.detail).contains("refused: unknown name"))
        #expect(logins.map(\.detail).contains("refused: wrong password, 4 attempts left"))
    }

    @Test("Five wrong passwords lock an official out, even with the right one, until the lockout ends")
    func lockout() async throws {
        let fixture = try await F()
        try await fixture.app.test(.router) { client in
            for attempt in 1...5 {
                let response = try await F.logIn(client, password: "wrong \(attempt)")
                #expect(response.status == (attempt < 5 ? .unauthorized : .tooManyRequests), "attempt \(attempt)")
            }
            let locked = try await F.logIn(client)
            #expect(locked.status == .tooManyRequests)
            #expect(String(buffer: locked.body).contains("this account is locked until"))
            fixture.clock.advance(by: 901)
            #expect(try await F.logIn(client).status == .seeOther)
        }
        let text = fixture.metrics.render()
        #expect(text.contains(#"bluetrace_console_logins_total{outcome="locked"} 2"#))
        #expect(text.contains(#"bluetrace_console_logins_total{outcome="accepted"} 1"#))
    }

    @Test("Issuing a code needs the session's CSRF token; the code is shown once and audited under the official")
    func issueCode() async throws {
        let fixture = try await F()
        _ = try await fixture.application.authority.register(username: "+61410000001", password: "password1")
        try await fixture.app.test(.router) { client in
            let session = try await F.session(client)
            let form = try await client.execute(uri: "/console/codes", method: .get, headers: session.headers)
            #expect(F.csrf(in: String(buffer: form.body)) == session.csrf)
            for body in [
                F.form([("phone", "+61410000001")]),
                F.form([("csrf", String(repeating: "b", count: 64)), ("phone", "+61410000001")]),
            ] {
                try await client.execute(uri: "/console/codes", method: .post, headers: session.formHeaders, body: body)
                {
                    #expect($0.status == .forbidden)
                    #expect(String(buffer: $0.body).contains("did not come from your session"))
                }
            }
            try await client.execute(
                uri: "/console/codes", method: .post, headers: session.formHeaders,
                body: F.form([("csrf", session.csrf), ("phone", "+61499999999")])
            ) {
                #expect($0.status == .badRequest)
                #expect(String(buffer: $0.body).contains("+61499999999"))
            }
            try await client.execute(
                uri: "/console/codes", method: .post, headers: session.formHeaders,
                body: F.form([("csrf", session.csrf), ("phone", " ")])
            ) { #expect($0.status == .badRequest) }
            try await client.execute(
                uri: "/console/codes", method: .post, headers: session.formHeaders,
                body: F.form([("csrf", session.csrf), ("phone", "+61410000001")])
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.cacheControl] == "no-store")
                let page = String(buffer: response.body)
                #expect(page.range(of: #"id="code">[0-9A-Z-]{6,}<"#, options: .regularExpression) != nil, "\(page)")
                #expect(page.contains("it is not shown again"))
            }
        }
        let trail = try await fixture.store.auditTrail(since: nil)
        let issued = trail.filter { $0.action == .codeIssued }
        #expect(issued.count == 1)
        #expect(issued.first?.actor == "dr.lee" && issued.first?.subject == "+61410000001")
    }

    @Test("Without upload codes configured the console says so (503)")
    func codesNotConfigured() async throws {
        let fixture = try await F(uploadCodes: .off)
        _ = try await fixture.application.authority.register(username: "+61410000001", password: "password1")
        try await fixture.app.test(.router) { client in
            let session = try await F.session(client)
            try await client.execute(
                uri: "/console/codes", method: .post, headers: session.formHeaders,
                body: F.form([("csrf", session.csrf), ("phone", "+61410000001")])
            ) { #expect($0.status == .serviceUnavailable) }
        }
    }

    @Test("Cases: newest first, 20 a page, the last page partial; bad and missing page numbers refused clearly")
    func casesPagination() async throws {
        let fixture = try await F()
        for index in 0..<45 {
            _ = try await fixture.store.recordUpload(
                UploadRecord(
                    uploader: "+614100\(String(format: "%05d", index))", receivedAt: F.t0 + Int64(index),
                    encounters: []))
        }
        try await fixture.app.test(.router) { client in
            let session = try await F.session(client)
            func rows(_ page: String) -> [String] {
                page.components(separatedBy: "<tr><td data-label=\"Case\"><a href=\"/console/cases/").dropFirst().map {
                    String($0.prefix { $0 != "\"" })
                }
            }
            let first = String(
                buffer: try await client.execute(uri: "/console/cases", method: .get, headers: session.headers).body)
            #expect(rows(first) == (26...45).reversed().map(String.init))
            #expect(first.contains("(45 uploads)"))
            #expect(
                first.contains("Page 1 of 3") && first.contains("/console/cases?page=2")
                    && !first.contains("rel=\"prev\""))
            let last = try await client.execute(uri: "/console/cases?page=3", method: .get, headers: session.headers)
            #expect(rows(String(buffer: last.body)) == ["5", "4", "3", "2", "1"])
            #expect(
                String(buffer: last.body).contains("/console/cases?page=2")
                    && !String(buffer: last.body).contains("rel=\"next\""))
            for bad in ["0", "-1", "abc", "1.5", "99999999999"] {
                try await client.execute(uri: "/console/cases?page=\(bad)", method: .get, headers: session.headers) {
                    #expect($0.status == .badRequest, "page=\(bad)")
                    #expect(String(buffer: $0.body).contains("pages are numbered from 1"))
                }
            }
            try await client.execute(uri: "/console/cases?page=4", method: .get, headers: session.headers) {
                #expect($0.status == .notFound)
                #expect(String(buffer: $0.body).contains("the cases fill 3 pages"))
            }
        }
    }

    @Test("One case: its contacts with first and last encounter, count, notice status, and a contact graph")
    func oneCase() async throws {
        let fixture = try await F()
        let encounter = { (phone: String?, at: Int64) in
            StoredEncounter(
                tempID: "1", validity: nil, heardAt: F.t0 + at, contact: phone,
                unmatchedReason: phone == nil ? .unknownID : nil)
        }
        let id = try await fixture.store.recordUpload(
            UploadRecord(
                uploader: "+61410000009", receivedAt: F.t0 + 100,
                encounters: [
                    encounter("+61410000001", 10), encounter("+61410000002", 20), encounter("+61410000001", 30),
                    encounter(nil, 40), encounter("<script>", 50),
                ]))
        let notices = try await fixture.store.recordNotices([("+61410000001", F.t0 + 30)], at: F.t0 + 100)
        _ = try await fixture.store.markNoticeDelivered(id: notices[0].id, to: "+61410000001", at: F.t0 + 200)
        _ = try await fixture.store.recordNotices([("+61410000002", F.t0 + 20)], at: F.t0 + 100)
        try await fixture.app.test(.router) { client in
            let session = try await F.session(client)
            let response = try await client.execute(uri: "/console/cases/\(id)", method: .get, headers: session.headers)
            #expect(response.status == .ok)
            let page = String(buffer: response.body)
            let format = TimestampFormat()
            #expect(page.contains("<dd id=\"contact-count\">3</dd>"))
            #expect(
                page.contains(
                    "<tr><td data-label=\"Contact\">+61410000001</td><td data-label=\"First encounter\">\(format.string(from: F.t0 + 10))</td><td data-label=\"Last encounter\">\(format.string(from: F.t0 + 30))</td><td class=\"num\" data-label=\"Encounters\">2</td><td data-label=\"Exposure notice\">delivered \(format.string(from: F.t0 + 200))</td></tr>"
                ), "\(page)")
            #expect(page.contains(">pending since \(format.string(from: F.t0 + 100))</td>"))
            #expect(page.contains("data-label=\"Exposure notice\">none</td>"))
            #expect(page.contains("<svg class=\"graph\""))
            #expect(page.components(separatedBy: "<line ").count == 4, "one line per contact")
            #expect(!page.contains("<script>"), "every value is escaped, in the table and the graph")
            #expect(page.contains("&lt;script&gt;"))
            for missing in ["999", "abc", "-1"] {
                try await client.execute(uri: "/console/cases/\(missing)", method: .get, headers: session.headers) {
                    #expect($0.status == .notFound, "case \(missing)")
                }
            }
        }
    }

    @Test("Every page an official opens is in the audit trail, which the console shows newest first, paginated")
    func auditTrail() async throws {
        let fixture = try await F(pageSize: 5)
        try await fixture.app.test(.router) { client in
            let session = try await F.session(client)
            _ = try await client.execute(uri: "/console/cases?page=1", method: .get, headers: session.headers)
            _ = try await client.execute(uri: "/console/codes", method: .get, headers: session.headers)
            _ = try await client.execute(uri: "/console/cases/7", method: .get, headers: session.headers)
            let response = try await client.execute(uri: "/console/audit", method: .get, headers: session.headers)
            let page = String(buffer: response.body)
            #expect(page.contains("(6 entries, newest first)"), "login, 4 views and this one: \(page)")
            let first = try #require(page.range(of: #"console_view</td><td data-label="Subject">/console/audit</td>"#))
            let earlier = try #require(
                page.range(of: #"console_view</td><td data-label="Subject">/console/cases/7</td>"#))
            #expect(first.lowerBound < earlier.lowerBound)
            #expect(page.contains("Page 1 of 2"))
            let second = String(
                buffer: try await client.execute(uri: "/console/audit?page=2", method: .get, headers: session.headers)
                    .body)
            #expect(
                second.contains(
                    #"console_login</td><td data-label="Subject">–</td><td data-label="Detail">accepted</td>"#))
            try await client.execute(uri: "/console/audit?page=x", method: .get, headers: session.headers) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: "/console/audit?page=9", method: .get, headers: session.headers) {
                #expect($0.status == .notFound)
            }
        }
        let views = try await fixture.store.auditTrail(since: nil).filter { $0.action == .consoleView }
        #expect(
            views.map(\.subject)
                == [
                    "/console/cases", "/console/cases?page=1", "/console/codes", "/console/cases/7", "/console/audit",
                    "/console/audit?page=2", "/console/audit?page=x", "/console/audit?page=9",
                ])
        #expect(views.allSatisfy { $0.actor == "dr.lee" })
    }
}
