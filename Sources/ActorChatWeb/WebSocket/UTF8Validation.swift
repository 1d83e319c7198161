/// Whether bytes are well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, nothing past
/// U+10FFFF). A WebSocket text message that is not is closed with 1007.
enum UTF8Validation {
    static func isValid(_ bytes: some Collection<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        while let lead = iterator.next() {
            if lead < 0x80 { continue }
            let count: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: count = 1
            case 0xE0: count = 2; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: count = 2
            case 0xED: count = 2; upper = 0x9F
            case 0xF0: count = 3; lower = 0x90
            case 0xF1...0xF3: count = 3
            case 0xF4: count = 3; upper = 0x8F
            default: return false
            }
            for position in 0..<count {
                guard let next = iterator.next() else { return false }
                let (low, high) = position == 0 ? (lower, upper) : (0x80, 0xBF)
                guard next >= low && next <= high else { return false }
            }
        }
        return true
    }
}
