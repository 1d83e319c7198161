/// How many terminal columns text takes, and where a terminal leaves the cursor after it: what the
/// prompt needs to redraw input that wraps. East Asian wide characters and emoji take two columns;
/// combining marks, format characters and escape sequences take none.
package enum DisplayWidth {
    package static func columns(of scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x20 || (0x7F..<0xA0).contains(value) { return 0 }
        if value < 0x300 { return 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if (0x1160...0x11FF).contains(value) { return 0 }
        return isWide(value) || scalar.properties.isEmojiPresentation ? 2 : 1
    }

    /// The row, counted from 0, that the cursor is on after `text` is written from the start of a
    /// row `columns` wide. A character that does not fit moves to the next row whole; a row filled
    /// to its last column leaves the cursor on it until more is written (the pending wrap).
    package static func cursorRow(after text: String, columns: Int) -> Int {
        let width = max(1, columns)
        var row = 0
        var column = 0
        var escape = false
        for scalar in text.unicodeScalars {
            if escape {
                // ESC [ parameters… final byte: nothing of it is shown.
                if (0x40...0x7E).contains(scalar.value), scalar != "[" { escape = false }
                continue
            }
            if scalar == "\u{1B}" {
                escape = true
                continue
            }
            if scalar == "\n" {
                row += 1
                column = 0
                continue
            }
            let columns = Self.columns(of: scalar)
            guard columns > 0 else { continue }
            if column + columns > width {
                row += 1
                column = 0
            }
            column += columns
        }
        return row
    }

    /// The East Asian Wide and Fullwidth ranges (Unicode 15, UAX #11) that terminals draw two columns wide.
    private static func isWide(_ value: UInt32) -> Bool {
        switch value {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF,
            0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19,
            0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x2FFFD,
            0x30000...0x3FFFD:
            true
        default:
            false
        }
    }
}
