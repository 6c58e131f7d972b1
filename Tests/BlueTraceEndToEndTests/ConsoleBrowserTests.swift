import BlueTraceCLI
import Foundation
import Testing

/// The officials' console in a real browser (Debian's headless Chromium), against a real `bluetrace server` that
/// traced a real phone's upload.
@Suite(
    "The console in headless Chromium",
    .enabled(if: HeadlessChromium.executable != nil, "install Debian's chromium package (CI does: .ci/run)"))
struct ConsoleBrowserTests {
    /// Where screenshots go: $BLUETRACE_SCREENSHOTS (docs/images, to refresh the README's), else the test directory.
    static func screenshotDirectory(_ fallback: String) -> String {
        ProcessInfo.processInfo.environment["BLUETRACE_SCREENSHOTS"] ?? fallback
    }

    /// The stores the test runs on: SQLite, and PostgreSQL when $BLUETRACE_TEST_POSTGRES names a server.
    static let stores = ["sqlite"] + (testServer == nil ? [] : ["postgres"])

    @Test(
        "An official logs in, opens a case a real server traced, issues an upload code and finds it in the audit trail",
        arguments: stores)
    func officialsWorkflow(store: String) async throws {
        let database = store == "sqlite" ? "bluetrace.sqlite" : try await freshDatabase().url
        let directory = try TestDirectory()
        try directory.write(Demo.sampleCredentials, to: "credentials.txt")
        try directory.write(Demo.sampleTempIDs, to: "tempIDs.txt")
        // +61410666666 heard +61410888888 (…891) and +61410777777 (…892).
        try directory.write(sampleContactLog, to: "+61410666666_contactlog.txt")
        let added = try await runBluetrace(
            [
                "officials", "add", "dr.lee", "--password-stdin", "--password-cost", "10", "--database", database,
            ],
            in: directory.path, input: "correct horse battery\n")
        #expect(added.status == 0, "\(added.errors)")
        #expect(added.output == "Created the console account of official dr.lee.\n")

        let server = try await ServerProcess(
            directory: directory.path,
            arguments: ["--database", database, "--exposure-notices", "--http-port", "0"])
        let console = "http://127.0.0.1:\(try await server.consolePort())"
        let uploader = try await phoneClient(port: server.port, directory: directory.path)
        await uploader.type("+61410666666", "kara1234", "Upload_contact_log")
        try await uploader.expect("traced 2.")
        await uploader.type("logout")
        #expect(try await uploader.outcome() == .loggedOut)

        let browser = try await HeadlessChromium()
        defer { browser.close() }
        // The README's screenshots are the SQLite run's.
        let shots = store == "sqlite" ? Self.screenshotDirectory(directory.path) : directory.path
        func shoot(_ name: String) async throws {
            let png = try await browser.screenshot()
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
            try png.write(to: URL(fileURLWithPath: "\(shots)/console-\(name).png"))
        }

        // Log in through the form, as a person would.
        try await browser.open("\(console)/console/cases")
        #expect(try await browser.location() == "\(console)/console/login", "no session: sent to the login page")
        try await browser.evaluate(
            "document.getElementById('name').value = 'dr.lee'; document.getElementById('password').value = 'wrong one'")
        try await browser.navigating(by: "document.getElementById('login').click()")
        #expect(try await browser.text().contains("Wrong name or password."))
        try await browser.evaluate(
            "document.getElementById('name').value = 'dr.lee'; "
                + "document.getElementById('password').value = 'correct horse battery'")
        try await shoot("login")
        try await browser.navigating(by: "document.getElementById('login').click()")
        #expect(try await browser.location() == "\(console)/console/cases")
        let cases = try await browser.text()
        #expect(cases.contains("+61410666666"), "\(cases)")
        #expect(cases.contains("Log out dr.lee"))
        #expect(cases.contains("(1 upload)"))
        #expect(try await browser.evaluate("document.cookie") as? String == "", "the session cookie is HttpOnly")
        try await shoot("cases")

        // The case the server traced: both contacts, their encounters and pending notices, and the graph.
        try await browser.navigating(by: "document.querySelector('#cases a').click()")
        let page = try await browser.text()
        #expect(page.contains("+61410888888") && page.contains("+61410777777"), "\(page)")
        #expect(page.components(separatedBy: "pending since").count == 3, "a pending notice for each contact")
        #expect(try await browser.evaluate("document.querySelectorAll('svg.graph line').length") as? Double == 2)
        let caseAddress = try await browser.location()
        try await shoot("case")

        // A one-time upload code, shown once.
        try await browser.open("\(console)/console/codes")
        try await browser.evaluate("document.getElementById('phone').value = '+61410666666'")
        try await browser.navigating(by: "document.getElementById('issue').click()")
        let code = try #require(try await browser.evaluate("document.getElementById('code').textContent") as? String)
        #expect(code.count >= 6, "\(code)")
        try await shoot("code")

        // The audit trail: the code, under the official's name, and every page opened.
        try await browser.open("\(console)/console/audit")
        let audit = try await browser.text()
        #expect(audit.contains("code_issued"), "\(audit)")
        #expect(
            audit.range(of: #"dr\.lee\s+code_issued\s+\+61410666666"#, options: .regularExpression) != nil, "\(audit)")
        #expect(audit.contains(String(caseAddress.dropFirst(console.count))), "the case page was audited")
        #expect(audit.contains("console_login") && audit.contains("refused: wrong password"))
        try await shoot("audit")
        #expect(!audit.contains(code), "the code itself is never shown again")

        // The metrics saw the same server at work.
        try await browser.open("\(console)/metrics")
        let metrics = try await browser.text()
        #expect(metrics.contains("bluetrace_uploads_total 1"), "\(metrics)")
        #expect(metrics.contains("bluetrace_exposure_notices_sent_total 2"))
        #expect(metrics.contains("bluetrace_upload_codes_issued_total 1"))
        #expect(metrics.contains(#"bluetrace_console_logins_total{outcome="accepted"} 1"#))
        #expect(metrics.contains(#"bluetrace_request_duration_seconds_count{operation="upload_contact_log"} 1"#))
        #expect(metrics.contains("bluetrace_connections_open 0"))
        #expect(await server.stop(signal: SIGTERM) == 0)
        if store == "postgres", let name = database.split(separator: "/").last {
            try await administer("DROP DATABASE \(name) WITH (FORCE)")
        }
    }
}
