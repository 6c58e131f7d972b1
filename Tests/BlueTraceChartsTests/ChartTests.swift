import Testing

@testable import BlueTraceCharts

@Suite("Charts")
struct ChartTests {
    @Test(
        "Ticks fall on round values covering the data",
        arguments: [
            (0.0, 23.0, [0.0, 5, 10, 15, 20, 25]),
            (0.0, 23_760.0, [0.0, 5_000, 10_000, 15_000, 20_000, 25_000]),
            (0.0, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1]),
            (0.0, 7.0, [0.0, 2, 4, 6, 8]),
            (3.0, 3.0, [0.0, 1, 2, 3]),
            (-12.0, 31.0, [-20.0, 0, 20, 40]),
        ])
    func ticks(minimum: Double, maximum: Double, expected: [Double]) {
        let scale = NiceScale(minimum: minimum, maximum: maximum)
        #expect(scale.ticks == expected)
        #expect(scale.lower <= min(minimum, maximum) && scale.upper >= max(minimum, maximum))
        #expect(scale.ticks.count <= 7)
    }

    @Test("Labels have the decimals the step needs and no binary noise")
    func labels() {
        let unit = NiceScale(minimum: 0, maximum: 1)
        #expect(unit.ticks.map(unit.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let counts = NiceScale(minimum: 0, maximum: 23_760)
        #expect(counts.label(15_000) == "15000")
        let small = NiceScale(minimum: 0, maximum: 0.03)
        #expect(small.ticks.map(small.label) == ["0.00", "0.01", "0.02", "0.03"])
    }

    @Test("Text is escaped wherever it goes: names, labels, captions, hover text")
    func escaping() {
        #expect(
            HTML.escape(#"<script>alert("x") & 'y'</script>"#)
                == "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;")
        let evil = "<b>&"
        let html = LineChart.html(
            series: [LineChart.Series(evil, [(0, 1), (1, 2)])], x: LineChart.Axis(evil), y: LineChart.Axis(evil),
            caption: evil)
        #expect(!html.contains("<b>"))
        #expect(html.contains("&lt;b&gt;&amp;"))
        let bars = BarChart.html(
            groups: [BarChart.Group(evil, [1])], series: [evil], xLabel: evil, yLabel: evil, caption: evil)
        #expect(!bars.contains("<b>"))
    }

    @Test("Every point and bar carries its value as hover text; the legend sits right of the plot; a caption follows")
    func hoverLegendCaption() {
        let html = LineChart.html(
            series: [LineChart.Series("beacons", [(0, 120), (1, 5_940)]), LineChart.Series("logged", [(0, 3)])],
            x: LineChart.Axis("hour"), y: LineChart.Axis("count per hour"), caption: "What to read.")
        #expect(html.components(separatedBy: "<title>").count - 1 == 3)
        #expect(html.contains("<title>beacons: hour 1 · count per hour 5940</title>"))
        #expect(html.contains("<figcaption>What to read.</figcaption>"))
        let plotRight = ChartFrame.width - ChartFrame.right
        let legendX = html.components(separatedBy: "<rect x=\"").dropFirst().compactMap {
            Double($0.prefix { $0 != "\"" })
        }
        #expect(legendX.count == 2 && legendX.allSatisfy { $0 > plotRight }, "\(legendX) against \(plotRight)")
        let bars = BarChart.html(
            groups: [BarChart.Group("+61400000001", [5, 3])], series: ["true", "traced"], xLabel: "case",
            yLabel: "contacts", caption: "c")
        #expect(bars.contains("<title>+61400000001 · traced: 3</title>"))
        #expect(bars.contains(">5</text>"), "the y axis has a scale")
    }

    @Test("Nothing to draw is said in words, not as an empty chart")
    func empty() {
        #expect(
            LineChart.html(series: [LineChart.Series("a", [])], x: .init("x"), y: .init("y"), caption: "c")
                == "<p>No data to chart.</p>")
        #expect(
            BarChart.html(groups: [], series: [], xLabel: "x", yLabel: "y", caption: "c") == "<p>No data to chart.</p>")
    }
}
