import BlueTraceConsole
import BlueTraceDomain
import BlueTraceStore
import Hummingbird
import HummingbirdTesting
import Testing

/// `/health`, `/ready` and `/metrics`, without sockets.
@Suite("Operations routes")
struct OperationsRouteTests {
    @Test("/health says the process is alive; /ready that the store answers, and 503 once it does not")
    func healthAndReadiness() async throws {
        let store = try SQLiteStore()
        let fixture = try await ConsoleFixture(store: store)
        try await fixture.app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "alive\n")
            }
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "ready\n")
            }
            await store.close()
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).hasPrefix("not ready: the store does not answer"))
            }
            try await client.execute(uri: "/health", method: .get) { response in #expect(response.status == .ok) }
        }
    }

    @Test("/metrics counts what the core did, in Prometheus' text format")
    func metricsFromEvents() async throws {
        let fixture = try await ConsoleFixture(exposureNotices: CloseContactRule(minimumEncounters: 1))
        let authority = fixture.application.authority
        _ = try await authority.register(username: "+61410000001", password: "password1")
        _ = try await authority.login(username: "+61410000001", password: "password1")
        for _ in 0..<3 { _ = try await authority.login(username: "+61410000001", password: "wrong") }
        _ = try await authority.login(username: "+61410000001", password: "password1")
        let grants = try await authority.issueTempIDs(to: "+61410000001")
        _ = try await authority.register(username: "+61410000002", password: "password2")
        let grant = grants[0]
        _ = try await authority.traceUpload(
            from: "+61410000002",
            entries: [
                .encounter(
                    ReportedEncounter(tempID: grant.tempID, validity: grant.validity, receivedAt: ConsoleFixture.t0)),
                .encounter(
                    ReportedEncounter(
                        tempID: TempID("99999999999999999999")!, validity: grant.validity,
                        receivedAt: ConsoleFixture.t0)),
            ])
        let code = try await authority.issueUploadCode(to: "+61410000002", by: "dr.lee").code
        let wrong = code == "00000000" ? "00000001" : "00000000"
        let refused = try await authority.redeemUploadCode(wrong, for: "+61410000002")
        #expect(!refused.isAccepted)
        #expect(try await authority.redeemUploadCode(code, for: "+61410000002").isAccepted)
        // The upload made the first phone a close contact: its notice is sent, then shown and acknowledged.
        let notices = try await authority.pendingNotices(for: "+61410000001")
        try #require(notices.count == 1)
        #expect(try await authority.acknowledgeNotice(notices[0].id, by: "+61410000001"))
        try await fixture.app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                let text = String(buffer: response.body)
                for line in [
                    "bluetrace_registrations_total 2",
                    #"bluetrace_logins_total{outcome="accepted"} 1"#,
                    #"bluetrace_logins_total{outcome="refused"} 2"#,
                    #"bluetrace_logins_total{outcome="blocked"} 1"#,
                    "bluetrace_blocks_total 1",
                    "bluetrace_tempids_issued_total 1",
                    "bluetrace_uploads_total 1",
                    #"bluetrace_upload_entries_total{verdict="traced"} 1"#,
                    #"bluetrace_upload_entries_total{verdict="unknown_id"} 1"#,
                    "bluetrace_upload_codes_issued_total 1",
                    #"bluetrace_upload_codes_tried_total{decision="accepted"} 1"#,
                    #"bluetrace_upload_codes_tried_total{decision="wrong"} 1"#,
                    #"bluetrace_upload_codes_tried_total{decision="expired"} 0"#,
                    "bluetrace_exposure_notices_sent_total 1",
                    "bluetrace_exposure_notices_delivered_total 1",
                    #"bluetrace_store_commit_duration_seconds_count{operation="record_upload"} 1"#,
                    #"bluetrace_store_commit_duration_seconds_count{operation="record_tempids"} 1"#,
                ] {
                    #expect(text.contains(line + "\n"), "\(line) in:\n\(text)")
                }
                #expect(text.contains("# TYPE bluetrace_store_commit_duration_seconds histogram"))
            }
        }
    }

    @Test("The transport's observer counts open connections and times requests per operation")
    func transportMetrics() async throws {
        let metrics = OperationsMetrics()
        metrics.connectionOpened()
        metrics.connectionOpened()
        metrics.connectionClosed()
        metrics.requestAnswered(.downloadTempID, nanoseconds: 300_000)
        metrics.requestAnswered(.login, nanoseconds: 20_000_000)
        metrics.requestAnswered(.acknowledgeNotice, nanoseconds: 1)
        let text = metrics.render()
        #expect(
            text.contains("bluetrace_connections_open 1.0\n") || text.contains("bluetrace_connections_open 1\n"),
            "\(text)")
        #expect(text.contains("bluetrace_connections_total 2\n"))
        #expect(text.contains(#"bluetrace_request_duration_seconds_bucket{operation="download_tempid",le="0.0005"} 1"#))
        #expect(
            text.contains(#"bluetrace_request_duration_seconds_bucket{operation="download_tempid",le="0.00025"} 0"#))
        #expect(text.contains(#"bluetrace_request_duration_seconds_count{operation="login"} 1"#))
        #expect(text.contains(#"bluetrace_request_duration_seconds_count{operation="acknowledge_notice"} 1"#))
        #expect(
            text.contains(#"bluetrace_request_duration_seconds_bucket{operation="acknowledge_notice",le="5e-05"} 1"#))
        #expect(text.contains(#"bluetrace_request_duration_seconds_count{operation="register"} 0"#))
        #expect(text.components(separatedBy: "# TYPE bluetrace_request_duration_seconds histogram").count == 2)
    }
}
