import Foundation

/// What the bench's SVG charts share: the document header (white page, title), number formatting and text escaping.
enum SVGCanvas {
    /// The opening `<svg>` element, a white background and the centred title.
    static func header(width: Double, height: Double, title: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
        viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif" font-size="13">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(number(width / 2))" y="28" text-anchor="middle" font-size="17" font-weight="bold">\(escape(title))</text>

        """
    }

    /// A coordinate with one decimal.
    static func number(_ value: Double) -> String { String(format: "%.1f", value) }

    /// `text` safe to put between tags.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
