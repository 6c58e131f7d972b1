import Foundation

/// Writes a report as CSV files and a self-contained HTML page with SVG plots (no scripts, no network).
public enum ReportWriter {
    /// Writes `cases.csv`, `hourly.csv`, `report.json` and `report.html` (and `sweep.csv` for a sweep) into
    /// `directory`, creating it if needed. Returns the HTML page's path.
    @discardableResult
    public static func write(
        _ report: SimulationReport, sweep: (Sweep, [SimulationReport])? = nil, to directory: String
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
        let path = "\(directory)/report.html"
        try html(report, sweep: sweep).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The HTML page.
    public static func html(_ report: SimulationReport, sweep: (Sweep, [SimulationReport])? = nil) -> String {
        let c = report.configuration
        var body = """
            <h1>BlueTrace simulation</h1>
            <p>\(c.phones) people, \(Int(c.adoption * 100))% with the app, \(c.hours) h, \(c.mobility.rawValue) mobility,
            \(c.transport.rawValue) transport, seed \(c.seed). Close contact: within \(c.closeContactDistance) m for
            \(c.closeContactMinutes) min; traced when at least \(c.encountersForCloseContact) encounters were logged.</p>
            <p class="big">Recall <b>\(percent(report.recall))</b> · Precision <b>\(percent(report.precision))</b></p>
            <table><tr><th>Beacons sent</th><th>Receptions in range</th><th>Lost</th><th>Encounters logged</th>
            <th>TempIDs issued</th><th>Downloads</th><th>Uploads</th></tr>
            <tr><td>\(report.totals.beaconsSent)</td><td>\(report.totals.receptionsInRange)</td>
            <td>\(report.totals.beaconsLost)</td><td>\(report.totals.encountersLogged)</td>
            <td>\(report.totals.tempIDsIssued)</td><td>\(report.totals.tempIDDownloads)</td>
            <td>\(report.totals.uploads)</td></tr></table>
            """
        if let (sweep, reports) = sweep {
            body += "<h2>Recall against \(sweep.parameter)</h2>"
            body += lineChart(
                series: [
                    (
                        "recall",
                        zip(sweep.values, reports).compactMap { value, report in report.recall.map { (value, $0) } }
                    ),
                    (
                        "precision",
                        zip(sweep.values, reports).compactMap { value, report in report.precision.map { (value, $0) } }
                    ),
                ], xLabel: sweep.parameter, yLabel: "fraction", yMax: 1)
        }
        body += "<h2>Recall by test time</h2>"
        let ordered = report.cases.sorted { $0.testHour < $1.testHour }
        var running: [(Double, Double)] = []
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
        body += lineChart(
            series: [
                ("per case", ordered.compactMap { item in item.recall.map { (item.testHour, $0) } }),
                ("cumulative", running),
            ], xLabel: "hours since start", yLabel: "recall", yMax: 1, points: true)
        body += "<h2>Contacts per case</h2>"
        body += barChart(report.cases)
        body += "<h2>Activity by hour</h2>"
        body += lineChart(
            series: [
                ("beacons sent", report.hourly.map { (Double($0.hour), Double($0.beaconsSent)) }),
                ("encounters logged", report.hourly.map { (Double($0.hour), Double($0.encountersLogged)) }),
            ], xLabel: "hour", yLabel: "count", yMax: nil)
        body += "<h2>Map at the first upload</h2>"
        body += map(report)
        body +=
            "<h2>Cases</h2><table><tr><th>case</th><th>test at (h)</th><th>true</th><th>traced</th>"
            + "<th>found</th><th>precision</th><th>recall</th></tr>"
        for item in report.cases {
            body +=
                "<tr><td>\(item.username)</td><td>\(String(format: "%.1f", item.testHour))</td>"
                + "<td>\(item.trueContacts.count)</td><td>\(item.tracedContacts.count)</td><td>\(item.truePositives)</td>"
                + "<td>\(percent(item.precision))</td><td>\(percent(item.recall))</td></tr>"
        }
        body +=
            "</table><p class=small>Generated by <code>bluetrace simulate</code> in "
            + String(format: "%.1f", report.elapsedSeconds) + " s.</p>"
        return """
            <!doctype html><html><head><meta charset="utf-8"><title>BlueTrace simulation</title><style>
            body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222}
            table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
            .big{font-size:1.4em}.small{color:#777;font-size:.85em}svg{background:#fafafa;border:1px solid #ddd}
            </style></head><body>\(body)</body></html>
            """
    }

    /// A fraction as a percentage; "–" where it is undefined.
    private static func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0 * 100) } ?? "–" }

    /// A fraction for a CSV cell; empty where it is undefined.
    private static func csv(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }

    private static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e"]

    private static func lineChart(
        series: [(String, [(Double, Double)])], xLabel: String, yLabel: String, yMax: Double?, points: Bool = false
    ) -> String {
        let width = 900.0
        let height = 300.0
        let margin = 64.0
        let all = series.flatMap(\.1)
        guard !all.isEmpty else { return "<p>No data.</p>" }
        let xMin = all.map(\.0).min()!
        let xMax = max(all.map(\.0).max()!, xMin + 1e-9)
        let top = yMax ?? max(all.map(\.1).max()!, 1)
        func px(_ x: Double) -> Double { margin + (x - xMin) / (xMax - xMin) * (width - 2 * margin) }
        func py(_ y: Double) -> Double { height - margin - y / top * (height - 2 * margin) }
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(width) \(height)\">"
        svg += axes(width: width, height: height, margin: margin, xLabel: xLabel, yLabel: yLabel)
        for tick in 0...4 {
            let value = top * Double(tick) / 4
            svg +=
                "<text x=\"\(margin - 6)\" y=\"\(py(value) + 4)\" font-size=\"11\" text-anchor=\"end\">"
                + (top <= 1 ? String(format: "%.2f", value) : String(Int(value))) + "</text>"
        }
        for tick in 0...4 {
            let value = xMin + (xMax - xMin) * Double(tick) / 4
            svg +=
                "<text x=\"\(px(value))\" y=\"\(height - margin + 16)\" font-size=\"11\" text-anchor=\"middle\">"
                + String(format: "%.2g", value) + "</text>"
        }
        for (index, (name, values)) in series.enumerated() {
            let color = colors[index % colors.count]
            let path = values.map { "\(px($0.0)),\(py($0.1))" }.joined(separator: " ")
            if !points || index > 0 {
                svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(path)\"/>"
            }
            if points || values.count <= 30 {
                for (x, y) in values { svg += "<circle cx=\"\(px(x))\" cy=\"\(py(y))\" r=\"3\" fill=\"\(color)\"/>" }
            }
            svg +=
                "<text x=\"\(width - margin - 120)\" y=\"\(margin + 16 * Double(index))\" font-size=\"12\" "
                + "fill=\"\(color)\">■ \(name)</text>"
        }
        return svg + "</svg>"
    }

    private static func barChart(_ cases: [SimulationReport.Case]) -> String {
        guard !cases.isEmpty else { return "<p>No cases.</p>" }
        let width = 900.0
        let height = 300.0
        let margin = 50.0
        let top = Double(max(1, cases.map { max($0.trueContacts.count, $0.tracedContacts.count) }.max()!))
        let slot = (width - 2 * margin) / Double(cases.count)
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(width) \(height)\">"
        svg += axes(width: width, height: height, margin: margin, xLabel: "case", yLabel: "contacts")
        for (index, item) in cases.enumerated() {
            let values = [item.trueContacts.count, item.tracedContacts.count, item.truePositives]
            for (bar, value) in values.enumerated() {
                let barHeight = Double(value) / top * (height - 2 * margin)
                let x = margin + Double(index) * slot + Double(bar) * slot / 3.5 + slot * 0.05
                svg +=
                    "<rect x=\"\(x)\" y=\"\(height - margin - barHeight)\" width=\"\(slot / 3.8)\" "
                    + "height=\"\(barHeight)\" fill=\"\(colors[bar])\"><title>\(item.username): \(value)</title></rect>"
            }
        }
        for (index, name) in ["true close contacts", "traced", "traced and true"].enumerated() {
            svg +=
                "<text x=\"\(width - margin - 150)\" y=\"\(margin + 16 * Double(index))\" font-size=\"12\" "
                + "fill=\"\(colors[index])\">■ \(name)</text>"
        }
        return svg + "</svg>"
    }

    private static func map(_ report: SimulationReport) -> String {
        let c = report.configuration
        let size = 600.0
        let scale = size / max(c.areaWidth, c.areaHeight)
        var svg = "<svg width=\"\(Int(c.areaWidth * scale))\" height=\"\(Int(c.areaHeight * scale))\">"
        let cases = Set(report.cases.map(\.phone))
        let contacts = Set(report.cases.flatMap(\.trueContacts))
        let traced = Set(report.cases.flatMap(\.tracedContacts))
        for index in report.map.x.indices {
            let color =
                cases.contains(index)
                ? "#d62728"
                : traced.contains(index)
                    ? "#ff7f0e"
                    : contacts.contains(index) ? "#9467bd" : "#999"
            let radius = cases.contains(index) ? 4 : 2
            svg +=
                "<circle cx=\"\(report.map.x[index] * scale)\" cy=\"\(report.map.y[index] * scale)\" "
                + "r=\"\(radius)\" fill=\"\(color)\"/>"
        }
        svg +=
            "</svg><p class=small>Red: cases · orange: traced contacts · purple: untraced true contacts · grey: "
            + "everyone else (at most 5,000 shown).</p>"
        return svg
    }

    private static func axes(width: Double, height: Double, margin: Double, xLabel: String, yLabel: String) -> String {
        "<line x1=\"\(margin)\" y1=\"\(height - margin)\" x2=\"\(width - margin)\" y2=\"\(height - margin)\" "
            + "stroke=\"#333\"/><line x1=\"\(margin)\" y1=\"\(margin)\" x2=\"\(margin)\" y2=\"\(height - margin)\" "
            + "stroke=\"#333\"/><text x=\"\(width / 2)\" y=\"\(height - 10)\" font-size=\"12\" "
            + "text-anchor=\"middle\">\(xLabel)</text><text x=\"14\" y=\"\(height / 2)\" font-size=\"12\" "
            + "transform=\"rotate(-90 14 \(height / 2))\" text-anchor=\"middle\">\(yLabel)</text>"
    }
}
