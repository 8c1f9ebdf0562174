import Testing

@testable import ReactorRedisStore

/// The store's byte strings: a value is rewritten in place only when that keeps no more than it needs.
@Suite struct ByteStringTests {
    @Test func aValueIsOverwrittenInPlaceOnlyWhenItUsesMostOfTheRoom() {
        let large = Array(repeating: UInt8(ascii: "x"), count: 1 << 20)
        let string = large.withUnsafeBytes { ByteString.make($0) }
        // A few bytes over 1 MiB: refused, so the caller stores them anew and the 1 MiB goes.
        #expect(!Array("small".utf8).withUnsafeBytes { string.overwrite(with: $0) })
        #expect(string.count == 1 << 20, "unchanged when refused")
        // Half the room or more: in place (a SET over a same-size value, or an INCR's digits, allocate nothing).
        let half = Array(repeating: UInt8(ascii: "y"), count: 1 << 19)
        #expect(half.withUnsafeBytes { string.overwrite(with: $0) })
        #expect(string.count == 1 << 19 && string.bytes.allSatisfy { $0 == UInt8(ascii: "y") })
        // Small strings keep 64 bytes of slack: "7" in an INCR's 20-byte room.
        let counter = Array("12345".utf8).withUnsafeBytes { ByteString.make($0, capacity: 20) }
        #expect(Array("7".utf8).withUnsafeBytes { counter.overwrite(with: $0) })
        #expect(Array(counter.bytes) == Array("7".utf8))
        // More than the room: refused.
        #expect(!Array(repeating: UInt8(0), count: 21).withUnsafeBytes { counter.overwrite(with: $0) })
    }
}
