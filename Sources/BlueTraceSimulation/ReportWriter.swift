import BlueTraceCharts
import Foundation

/// Writes a report as CSV files and a self-contained HTML page with SVG plots (no scripts, no network).
public enum ReportWriter {
    /// Writes `cases.csv`, `hourly.csv`, `report.json` and `report.html` (and `sweep.csv` for a sweep) into
    /// `directory`, creating it if needed. Returns the HTML page's path.
    @discardableResult
    public static func write(
        _ report: SimulationReport, sweep: (Sweep, [SimulationReport])? = nil, summaries: [RepeatSummary] = [],
        to directory: String
    ) throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var cases = "phone,username,test_hour,true_contacts,traced_contacts,true_positives,precision,recall\n"
        for item in report.cases {
            cases +=
                "\(item.phone),\(item.username),\(item.testHour),\(item.trueContacts.count),"
                + "\(item.tracedContacts.count),\(item.truePositives),\(Self.csv(item.precision)),\(Self.csv(item.recall))\n"
        }
        try cases.write(toFile: "\(directory)/cases.csv", atomically: true, encoding: .utf8)
        var hourly = "hour,beacons_sent,encounters_logged\n"
        for hour in report.hourly { hourly += "\(hour.hour),\(hour.beaconsSent),\(hour.encountersLogged)\n" }
        try hourly.write(toFile: "\(directory)/hourly.csv", atomically: true, encoding: .utf8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: "\(directory)/report.json"))
        if let (sweep, reports) = sweep {
            var csv = "\(sweep.parameter),precision,recall,encounters_logged\n"
            for (value, item) in zip(sweep.values, reports) {
                csv += "\(value),\(Self.csv(item.precision)),\(Self.csv(item.recall)),\(item.totals.encountersLogged)\n"
            }
            try csv.write(toFile: "\(directory)/sweep.csv", atomically: true, encoding: .utf8)
        }
        if let epidemic = report.epidemic {
            var csv =
                "day,infections_with_tracing,infections_without,cumulative_with,cumulative_without,"
                + "r_with_tracing,r_without\n"
            let a = epidemic.withTracing
            let b = epidemic.withoutTracing
            let (ca, cb) = (a.cumulativeInfections, b.cumulativeInfections)
            for day in a.dailyInfections.indices {
                csv +=
                    "\(day),\(a.dailyInfections[day]),\(b.dailyInfections[day]),\(ca[day]),\(cb[day]),"
                    + "\(Self.csv(a.reproductionByDay[day])),\(Self.csv(b.reproductionByDay[day]))\n"
            }
            try csv.write(toFile: "\(directory)/epidemic.csv", atomically: true, encoding: .utf8)
        }
        if let risk = report.risk {
            var csv = "threshold_minutes,encounters_precision,encounters_recall,weighted_precision,weighted_recall\n"
            for (count, weighted) in zip(risk.encounters, risk.weighted) {
                csv +=
                    "\(count.threshold),\(Self.csv(count.precision)),\(Self.csv(count.recall)),"
                    + "\(Self.csv(weighted.precision)),\(Self.csv(weighted.recall))\n"
            }
            try csv.write(toFile: "\(directory)/risk.csv", atomically: true, encoding: .utf8)
        }
        let path = "\(directory)/report.html"
        try html(report, sweep: sweep, summaries: summaries).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The HTML page.
    public static func html(
        _ report: SimulationReport, sweep: (Sweep, [SimulationReport])? = nil, summaries: [RepeatSummary] = []
    ) -> String {
        let c = report.configuration
        let e = HTML.escape
        var body = """
            <h1>BlueTrace simulation</h1>
            <p>\(c.phones) people, \(Int(c.adoption * 100))% with the app, \(e("\(c.hours)")) h, \(e(c.mobility.rawValue))
            mobility, \(e(c.transport.rawValue)) transport, seed \(c.seed). Close contact: within \(e("\(c.closeContactDistance)")) m
            for \(e("\(c.closeContactMinutes)")) min; traced when at least \(c.encountersForCloseContact) encounters were
            logged.</p>
            <p class="big">Recall <b>\(percent(report.recall))</b> · Precision <b>\(percent(report.precision))</b></p>
            <table><tr><th>Beacons sent</th><th>Receptions in range</th><th>Lost</th><th>Encounters logged</th>
            <th>TempIDs issued</th><th>Downloads</th><th>Uploads</th></tr>
            <tr><td>\(report.totals.beaconsSent)</td><td>\(report.totals.receptionsInRange)</td>
            <td>\(report.totals.beaconsLost)</td><td>\(report.totals.encountersLogged)</td>
            <td>\(report.totals.tempIDsIssued)</td><td>\(report.totals.tempIDDownloads)</td>
            <td>\(report.totals.uploads)</td></tr></table>
            """
        if let (sweep, reports) = sweep {
            body += "<h2>Recall against \(e(sweep.parameter))</h2>"
            body += LineChart.html(
                series: [
                    LineChart.Series(
                        "recall",
                        zip(sweep.values, reports).compactMap { value, report in report.recall.map { (value, $0) } },
                        style: .lineAndPoints),
                    LineChart.Series(
                        "precision",
                        zip(sweep.values, reports).compactMap { value, report in report.precision.map { (value, $0) } },
                        style: .lineAndPoints),
                ], x: LineChart.Axis(sweep.parameter), y: LineChart.Axis("fraction", range: 0...1),
                caption: "Recall and precision of the whole run at each value of \(sweep.parameter); a run without "
                    + "true contacts (or traced ones) has no recall (precision) and is left out.")
        }
        if let (sweep, _) = sweep, report.epidemic != nil, summaries.count == sweep.values.count {
            body += "<h2>Attack rate against \(e(sweep.parameter))</h2>"
            func series(_ name: String, _ pick: (RepeatSummary) -> Estimate?) -> [LineChart.Series] {
                let estimates = zip(sweep.values, summaries).compactMap { value, summary in
                    pick(summary).map { (value, $0) }
                }
                var result = [
                    LineChart.Series(name, estimates.map { ($0.0, $0.1.mean) }, style: .lineAndPoints)
                ]
                if summaries.contains(where: { $0.seeds.count > 1 }) {
                    result.append(LineChart.Series("\(name): 95% CI low", estimates.map { ($0.0, $0.1.low) }))
                    result.append(LineChart.Series("\(name): 95% CI high", estimates.map { ($0.0, $0.1.high) }))
                }
                return result
            }
            body += LineChart.html(
                series: series("with tracing", \.attackRateWithTracing)
                    + series("without tracing", \.attackRateWithoutTracing),
                x: LineChart.Axis(sweep.parameter), y: LineChart.Axis("attack rate", range: 0...1),
                caption: "The share of people infected by the end, with and without tracing, at each value of "
                    + "\(sweep.parameter); with --repeats, the mean over the seeds and its 95% confidence interval.")
        }
        if let epidemic = report.epidemic { body += epidemicSection(epidemic) }
        if let risk = report.risk { body += riskSection(risk) }
        body += "<h2>Recall by test time</h2>"
        let ordered = report.cases.sorted { $0.testHour < $1.testHour }
        var running: [(x: Double, y: Double)] = []
        var truePositives = 0
        var truth = 0
        for item in ordered {
            truePositives += item.truePositives
            truth += item.trueContacts.count
            if let recall = SimulationReport.fraction(truePositives, of: truth) {
                running.append((item.testHour, recall))
            }
        }
        // A case with no true contacts has no recall: it is left out, not drawn at 0 or 1.
        body += LineChart.html(
            series: [
                LineChart.Series(
                    "per case", ordered.compactMap { item in item.recall.map { (item.testHour, $0) } },
                    style: .points),
                LineChart.Series("cumulative", running),
            ], x: LineChart.Axis("test time (hours since start)"), y: LineChart.Axis("recall", range: 0...1),
            caption: "Each dot is one case: the share of its true close contacts that tracing found when it uploaded. "
                + "The line is the share over all cases tested so far. Cases without true contacts have no recall "
                + "and are not drawn.")
        body += "<h2>Contacts per case</h2>"
        body += BarChart.html(
            groups: report.cases.map { item in
                BarChart.Group(
                    item.username,
                    [Double(item.trueContacts.count), Double(item.tracedContacts.count), Double(item.truePositives)])
            }, series: ["true close contacts", "traced", "traced and true"], xLabel: "case (phone number)",
            yLabel: "contacts (people)",
            caption: "For each case, how many people really were close contacts, how many tracing named, and how many "
                + "of those were right: the gap between the first and third bars is what tracing missed.")
        body += "<h2>Activity by hour</h2>"
        body += LineChart.html(
            series: [
                LineChart.Series("beacons sent", report.hourly.map { (Double($0.hour), Double($0.beaconsSent)) }),
                LineChart.Series(
                    "encounters logged", report.hourly.map { (Double($0.hour), Double($0.encountersLogged)) }),
            ], x: LineChart.Axis("hour since start"), y: LineChart.Axis("count per hour"),
            caption: "Beacons the phones sent and encounters they logged in each hour: encounters follow how close "
                + "people are, beacons only how many phones run the app.")
        body += "<h2>Map at the first upload</h2>"
        body += map(report)
        body +=
            "<h2>Cases</h2><table><tr><th>case</th><th>test at (h)</th><th>true</th><th>traced</th>"
            + "<th>found</th><th>precision</th><th>recall</th></tr>"
        for item in report.cases {
            body +=
                "<tr><td>\(swatch(Self.caseColor)) \(e(item.username))</td><td>\(String(format: "%.1f", item.testHour))</td>"
                + "<td>\(item.trueContacts.count)</td><td>\(item.tracedContacts.count)</td><td>\(item.truePositives)</td>"
                + "<td>\(percent(item.precision))</td><td>\(percent(item.recall))</td></tr>"
        }
        body +=
            "</table><p class=small>Generated by <code>bluetrace simulate</code> in "
            + String(format: "%.1f", report.elapsedSeconds) + " s.</p>"
        return """
            <!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
            <title>BlueTrace simulation</title><style>
            body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222}
            table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
            .big{font-size:1.4em}.small{color:#777;font-size:.85em}svg{background:#fafafa;border:1px solid #ddd;max-width:100%;height:auto}
            figure{margin:0 0 1.5em}figcaption{color:#555;font-size:.9em;max-width:900px}
            .legend{list-style:none;padding:0;display:flex;gap:1.2em;flex-wrap:wrap}
            .swatch{display:inline-block;width:.8em;height:.8em;border-radius:50%;vertical-align:baseline}
            </style></head><body>\(body)</body></html>
            """
    }

    /// The epidemic's charts: infections by day and cumulative, with and without tracing; R by infection day.
    static func epidemicSection(_ epidemic: EpidemicReport) -> String {
        let a = epidemic.withTracing
        let b = epidemic.withoutTracing
        func points(_ values: [Int]) -> [(x: Double, y: Double)] {
            values.enumerated().map { (Double($0.offset), Double($0.element)) }
        }
        func points(_ values: [Double?]) -> [(x: Double, y: Double)] {
            values.enumerated().compactMap { day, value in value.map { (Double(day), $0) } }
        }
        var html = "<h2>Epidemic: with and without tracing</h2>"
        html += "<table><tr><th></th><th>with tracing</th><th>without</th></tr>"
        for (name, x, y) in [
            ("infections", "\(a.infections)", "\(b.infections)"),
            ("attack rate", percent(a.attackRate), percent(b.attackRate)),
            ("positive tests", "\(a.positives)", "\(b.positives)"),
            ("uploads", "\(a.uploads)", "\(b.uploads)"),
            ("exposure notices", "\(a.notices)", "\(b.notices)"),
            ("isolations after a notice", "\(a.noticeIsolations)", "\(b.noticeIsolations)"),
            ("isolations on symptoms", "\(a.selfIsolations)", "\(b.selfIsolations)"),
        ] {
            html += "<tr><th>\(HTML.escape(name))</th><td>\(x)</td><td>\(y)</td></tr>"
        }
        html += "</table>"
        let perNotice = epidemic.preventedPerNotice.map { String(format: "%.2f", $0) } ?? "–"
        let perCase = epidemic.noticesPerCase.map { String(format: "%.2f", $0) } ?? "–"
        html +=
            "<p class=\"big\">Infections prevented <b>\(epidemic.infectionsPrevented)</b> · per notice <b>\(perNotice)</b>"
            + " · notices per case <b>\(perCase)</b></p>"
        html += LineChart.html(
            series: [
                LineChart.Series("with tracing", points(a.dailyInfections), style: .lineAndPoints),
                LineChart.Series("without tracing", points(b.dailyInfections), style: .lineAndPoints),
            ], x: LineChart.Axis("day"), y: LineChart.Axis("new infections"),
            caption: "New infections each day in the same seeded world, with the same transmission draws: the gap "
                + "between the lines is what tracing (uploads, notices, isolation) changed.")
        html += LineChart.html(
            series: [
                LineChart.Series("with tracing", points(a.cumulativeInfections)),
                LineChart.Series("without tracing", points(b.cumulativeInfections)),
            ], x: LineChart.Axis("day"), y: LineChart.Axis("people infected so far"),
            caption: "Cumulative infections (the attack rate times the population), seeds included.")
        html += LineChart.html(
            series: [
                LineChart.Series("with tracing", points(a.reproductionByDay), style: .lineAndPoints),
                LineChart.Series("without tracing", points(b.reproductionByDay), style: .lineAndPoints),
            ], x: LineChart.Axis("day of infection"), y: LineChart.Axis("secondary infections per case"),
            caption: "The reproduction number by day of infection: how many people those infected on a day went on "
                + "to infect. The last days are low because their infections had not run their course when the run "
                + "ended; days nobody was infected are left out.")
        let settings = Setting.allCases.map(\.rawValue)
        html += BarChart.html(
            groups: settings.map { setting in
                BarChart.Group(
                    setting, [Double(a.infectionsBySetting[setting] ?? 0), Double(b.infectionsBySetting[setting] ?? 0)])
            }, series: ["with tracing", "without tracing"], xLabel: "where the infection happened",
            yLabel: "infections",
            caption: "Infections by setting (the place the infectious person was at; seeds are not counted).")
        return html
    }

    /// The precision–recall curves of counted encounters and of weighted minutes.
    static func riskSection(_ risk: RiskCurve) -> String {
        func points(_ curve: [RiskCurve.Point]) -> [(x: Double, y: Double)] {
            curve.compactMap { point in
                guard let precision = point.precision, let recall = point.recall else { return nil }
                return (recall, precision)
            }
        }
        var html = "<h2>Risk scoring: precision against recall</h2>"
        html += LineChart.html(
            series: [
                LineChart.Series("encounters counted (today's rule)", points(risk.encounters), style: .lineAndPoints),
                LineChart.Series(
                    "minutes weighted by attenuation (GAEN-style)", points(risk.weighted), style: .lineAndPoints),
            ], x: LineChart.Axis("recall", range: 0...1), y: LineChart.Axis("precision", range: 0...1),
            caption: "Each point is one threshold ("
                + RiskScoring.thresholds.map { String(Int($0)) }.joined(separator: ", ")
                + " minutes): the cases' contacts at or above it, scored against the true close contacts. Weighted "
                + "minutes count a beacon fully below \(Int(risk.scoring.bucketEdges[0])) dB of attenuation, half up to "
                + "\(Int(risk.scoring.bucketEdges[1])) dB, and not beyond (Corona-Warn-App). Points without a defined "
                + "precision are left out.")
        return html
    }

    /// A fraction as a percentage; "–" where it is undefined.
    private static func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0 * 100) } ?? "–" }

    /// A fraction for a CSV cell; empty where it is undefined.
    private static func csv(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }

    static let caseColor = "#d62728"
    static let tracedColor = "#ff7f0e"
    static let missedColor = "#9467bd"
    static let otherColor = "#999"

    /// A coloured dot, the map's marker for a kind of person.
    private static func swatch(_ color: String) -> String {
        "<span class=\"swatch\" style=\"background:\(color)\"></span>"
    }

    private static func map(_ report: SimulationReport) -> String {
        let c = report.configuration
        let size = 600.0
        let scale = size / max(c.areaWidth, c.areaHeight)
        var svg = "<figure><svg width=\"\(Int(c.areaWidth * scale))\" height=\"\(Int(c.areaHeight * scale))\">"
        let cases = Set(report.cases.map(\.phone))
        let contacts = Set(report.cases.flatMap(\.trueContacts))
        let traced = Set(report.cases.flatMap(\.tracedContacts))
        for index in report.map.x.indices {
            let color =
                cases.contains(index)
                ? caseColor
                : traced.contains(index)
                    ? tracedColor
                    : contacts.contains(index) ? missedColor : otherColor
            let radius = cases.contains(index) ? 4 : 2
            svg +=
                "<circle cx=\"\(report.map.x[index] * scale)\" cy=\"\(report.map.y[index] * scale)\" "
                + "r=\"\(radius)\" fill=\"\(color)\"/>"
        }
        svg += "</svg><figcaption><ul class=legend>"
        for (color, name) in [
            (caseColor, "cases (the rows of the table below)"), (tracedColor, "traced contacts"),
            (missedColor, "true contacts tracing missed"), (otherColor, "everyone else (at most 5,000 shown)"),
        ] {
            svg += "<li>\(swatch(color)) \(HTML.escape(name))</li>"
        }
        return svg + "</ul>Where everyone stood when the first case uploaded.</figcaption></figure>"
    }
}
