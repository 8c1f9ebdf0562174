/// A server's commands by name, for dispatch: `table[command.name]` costs one multiply and a compare or two, and
/// allocates nothing.
///
/// Open addressing over a power-of-two number of slots at most half full, with a multiply-shift hash of the packed
/// name (no SipHash: the keys are the server's own command names, fixed when the table is built, not chosen by a
/// peer; a peer's unknown name costs the same probe). Immutable once built.
public struct RESPCommandTable<Value: Sendable>: Sendable {
    @usableFromInline let slotBits: Int
    @usableFromInline var names: [RESPCommandName?]
    @usableFromInline var values: [Value?]
    /// Commands in the table.
    public let count: Int

    /// A table of `entries`; a name given twice is a programming error.
    public init(_ entries: [(RESPCommandName, Value)]) {
        var bits = 4
        while 1 << bits < 2 * entries.count { bits += 1 }
        slotBits = bits
        names = Array(repeating: nil, count: 1 << bits)
        values = Array(repeating: nil, count: 1 << bits)
        count = entries.count
        for (name, value) in entries {
            var slot = slot(of: name)
            while let present = names[slot] {
                precondition(present != name, "\(name) is in the command table twice")
                slot = (slot + 1) & ((1 << slotBits) - 1)
            }
            names[slot] = name
            values[slot] = value
        }
    }

    @inlinable
    func slot(of name: RESPCommandName) -> Int {
        let mixed = (name.low ^ (name.high &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(name.length)) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: mixed >> UInt64(64 - slotBits))
    }

    /// The value for `name`, or nil. Inlinable, so it is specialised for `Value` where it is used.
    @inlinable
    public subscript(name: RESPCommandName) -> Value? {
        var slot = slot(of: name)
        while let candidate = names[slot] {
            if candidate == name { return values[slot] }
            slot = (slot + 1) & ((1 << slotBits) - 1)
        }
        return nil
    }
}
