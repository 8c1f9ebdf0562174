/// Sends a stream to a connection in random pieces, as a peer whose bytes arrive in arbitrary chunks: each piece is
/// 1 ... `largestPiece` bytes (at least `smallestPiece`), or with a chance of 1 in 16 all that is left; after each
/// piece, with a chance of `readChance` in 8, the peer reads the replies so far.
///
/// `send` writes one piece (running the loop as it goes) and returns the bytes written; fewer than asked means the
/// connection is gone, and sending stops. `read` reads the replies. `shouldGoOn`, called after each piece with the
/// bytes sent so far, stops sending when it returns false. Returns the bytes sent.
public func sendInPieces(
    _ stream: UnsafeRawBufferPointer, random: inout SplitMix64, smallestPiece: Int = 1, largestPiece: Int,
    readChance: Int, send: (UnsafeRawBufferPointer) -> Int, read: () -> Void, shouldGoOn: (Int) -> Bool = { _ in true }
) -> Int {
    var sent = 0
    while sent < stream.count {
        let remaining = stream.count - sent
        let piece = random.chance(1, in: 16) ? remaining : max(smallestPiece, 1 + random.below(largestPiece))
        let end = sent + min(remaining, piece)
        sent += send(UnsafeRawBufferPointer(rebasing: stream[sent..<end]))
        if !shouldGoOn(sent) || sent < end { break }
        if random.below(8) < readChance { read() }
    }
    return sent
}
