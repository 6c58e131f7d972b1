/// What every chart of a report shares: its size, the plotted area inside it, the axes with their round ticks and
/// labels, the legend beside the plot (never on it) and the caption under the figure.
struct ChartFrame {
    static let width = 900.0
    static let height = 320.0
    /// Left edge of the plot: room for the y ticks and label.
    static let left = 72.0
    /// Right margin: room for the legend, outside the plot.
    static let right = 190.0
    static let top = 16.0
    /// Bottom margin: room for the x ticks and label.
    static let bottom = 52.0
    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"]

    let x: NiceScale
    let y: NiceScale

    var plotWidth: Double { Self.width - Self.left - Self.right }
    var plotHeight: Double { Self.height - Self.top - Self.bottom }

    /// The horizontal position of `value`.
    func px(_ value: Double) -> Double { Self.left + x.fraction(value) * plotWidth }
    /// The vertical position of `value`.
    func py(_ value: Double) -> Double { Self.top + (1 - y.fraction(value)) * plotHeight }

    /// The opening of the figure: the SVG element, grid lines, ticks and both axis labels.
    func open(xLabel: String, yLabel: String, xTicks: [(position: Double, label: String)]? = nil) -> String {
        var svg =
            "<figure><svg width=\"\(Int(Self.width))\" height=\"\(Int(Self.height))\" "
            + "viewBox=\"0 0 \(Self.width) \(Self.height)\" role=\"img\">"
        for tick in y.ticks {
            let position = py(tick)
            svg +=
                "<line x1=\"\(Self.left)\" y1=\"\(position)\" x2=\"\(Self.left + plotWidth)\" y2=\"\(position)\" "
                + "stroke=\"#e4e4e4\"/><text x=\"\(Self.left - 6)\" y=\"\(position + 4)\" font-size=\"11\" "
                + "text-anchor=\"end\">\(y.label(tick))</text>"
        }
        for tick in xTicks ?? x.ticks.map({ (px($0), x.label($0)) }) {
            svg +=
                "<line x1=\"\(tick.position)\" y1=\"\(Self.top + plotHeight)\" x2=\"\(tick.position)\" "
                + "y2=\"\(Self.top + plotHeight + 4)\" stroke=\"#333\"/><text x=\"\(tick.position)\" "
                + "y=\"\(Self.top + plotHeight + 17)\" font-size=\"11\" text-anchor=\"middle\">"
                + "\(HTML.escape(tick.label))</text>"
        }
        let bottomEdge = Self.top + plotHeight
        svg +=
            "<line x1=\"\(Self.left)\" y1=\"\(bottomEdge)\" x2=\"\(Self.left + plotWidth)\" y2=\"\(bottomEdge)\" "
            + "stroke=\"#333\"/><line x1=\"\(Self.left)\" y1=\"\(Self.top)\" x2=\"\(Self.left)\" y2=\"\(bottomEdge)\" "
            + "stroke=\"#333\"/><text x=\"\(Self.left + plotWidth / 2)\" y=\"\(Self.height - 12)\" font-size=\"12\" "
            + "text-anchor=\"middle\">\(HTML.escape(xLabel))</text><text x=\"16\" y=\"\(Self.top + plotHeight / 2)\" "
            + "font-size=\"12\" transform=\"rotate(-90 16 \(Self.top + plotHeight / 2))\" text-anchor=\"middle\">"
            + "\(HTML.escape(yLabel))</text>"
        return svg
    }

    /// The legend, in the right margin beside the plot: a swatch and a name per series.
    func legend(_ names: [String]) -> String {
        var svg = ""
        let x = Self.left + plotWidth + 16
        for (index, name) in names.enumerated() {
            let y = Self.top + 8 + 20 * Double(index)
            svg +=
                "<rect x=\"\(x)\" y=\"\(y - 9)\" width=\"12\" height=\"12\" fill=\"\(Self.color(index))\"/>"
                + "<text x=\"\(x + 18)\" y=\"\(y + 1)\" font-size=\"12\">\(HTML.escape(name))</text>"
        }
        return svg
    }

    /// The end of the figure, with its caption: what to read from the chart.
    func close(caption: String) -> String {
        "</svg><figcaption>\(HTML.escape(caption))</figcaption></figure>"
    }

    static func color(_ index: Int) -> String { colors[index % colors.count] }
}
