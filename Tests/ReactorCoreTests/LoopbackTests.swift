import Testing

/// Every test that opens sockets lives under this suite and runs one at a time, so descriptor and thread counts
/// taken by one test are not disturbed by another.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct LoopbackTests {}
