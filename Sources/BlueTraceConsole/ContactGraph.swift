import BlueTraceCharts
import BlueTraceStore
import Foundation

/// A case's contacts as a small SVG graph: the person who uploaded in the middle, each traced contact on a circle
/// around them, joined by a line as thick as the encounters logged (at most 24 contacts drawn; the table lists all).
struct ContactGraph {
    /// Who uploaded.
    var uploader: String
    /// Their traced contacts.
    var contacts: [TracedContact]

    static let drawn = 24

    /// The graph as an `<svg>` element; every label is escaped.
    func svg() -> String {
        let size = 320.0
        let centre = size / 2
        let radius = 118.0
        let shown = Array(contacts.prefix(Self.drawn))
        let most = max(1, shown.map(\.encounters).max() ?? 1)
        var parts: [String] = []
        parts.append(
            "<svg class=\"graph\" viewBox=\"0 0 \(Int(size)) \(Int(size))\" role=\"img\" "
                + "aria-label=\"Contact graph: \(HTML.escape(uploader)) and \(contacts.count) traced contacts\" "
                + "xmlns=\"http://www.w3.org/2000/svg\">")
        var nodes: [String] = []
        for (index, contact) in shown.enumerated() {
            let angle = 2 * Double.pi * Double(index) / Double(max(1, shown.count)) - Double.pi / 2
            let x = centre + radius * cos(angle)
            let y = centre + radius * sin(angle)
            let width = 1 + 5 * Double(contact.encounters) / Double(most)
            parts.append(
                "<line x1=\"\(Int(centre))\" y1=\"\(Int(centre))\" x2=\(Self.q(x)) y2=\(Self.q(y)) "
                    + "stroke=\"#7a9cc6\" stroke-width=\(Self.q(width))><title>\(HTML.escape(contact.phone)): "
                    + "\(contact.encounters) encounter\(contact.encounters == 1 ? "" : "s")</title></line>")
            nodes.append(
                "<g><circle cx=\(Self.q(x)) cy=\(Self.q(y)) r=\"9\" fill=\"#f2a541\"/>"
                    + "<text x=\(Self.q(x)) y=\(Self.q(y + 22)) text-anchor=\"middle\" font-size=\"10\">"
                    + "\(HTML.escape(String(contact.phone.suffix(4))))</text>"
                    + "<title>\(HTML.escape(contact.phone))</title></g>")
        }
        parts += nodes
        parts.append(
            "<g><circle cx=\"\(Int(centre))\" cy=\"\(Int(centre))\" r=\"14\" fill=\"#c0392b\"/>"
                + "<title>\(HTML.escape(uploader)) (tested positive)</title></g>")
        if contacts.count > shown.count {
            parts.append(
                "<text x=\"\(Int(centre))\" y=\"\(Int(size) - 4)\" text-anchor=\"middle\" font-size=\"11\">"
                    + "and \(contacts.count - shown.count) more (see the table)</text>")
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    /// A coordinate as a quoted attribute value with one decimal.
    private static func q(_ value: Double) -> String { "\"" + String(format: "%.1f", value) + "\"" }
}
