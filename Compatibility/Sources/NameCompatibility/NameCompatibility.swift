// Every swift-reactor library next to SwiftNIO, swift-system and Foundation in one file, each side's types spelled
// unqualified (but swift-system's `FileDescriptor`, see `openReadOnly`). If a reactor type takes a name one of these
// modules also declares, this file stops compiling.
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import ReactorCore
import ReactorHTTP1
import ReactorHTTP1Types
import ReactorHTTPEndpoints
import ReactorRESP
import ReactorRedisStore
import ReactorServiceLifecycle
import ReactorTLS
import SystemPackage

/// Echoes every byte on a reactor loop and hands the first bytes it saw to a SwiftNIO promise.
struct Echo: StreamHandler {
    let firstBytes: EventLoopPromise<Data>

    func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
        let loop: ReactorLoop = connection.eventLoop
        precondition(loop.inEventLoop)
        let peer: ReactorSocketAddress? = connection.peerAddress
        precondition(peer?.port != 0)
        let data = input.withUnsafeBytes { Data($0) }
        firstBytes.succeed(data)  // a second succeed is ignored by NIO
        connection.write(input.bytes)
        input.consume(input.count)
    }

    func onClose(_ id: ConnectionID, state: Void?, reason: CloseReason) {
        if isRefusal(reason) { firstBytes.fail(ChannelError.ioOnClosedChannel) }
    }
}

/// True when a reactor connection closed because its connect was refused: ReactorCore's `SystemError` carries
/// swift-system's `Errno`.
func isRefusal(_ reason: CloseReason) -> Bool {
    guard case .connectFailed(let error) = reason else { return false }
    let errno: Errno = error.errno
    return errno == .connectionRefused || errno == .timedOut
}

/// Collects what a SwiftNIO channel reads until `expected` bytes arrived.
final class Collect: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let expected: Int
    let reply: EventLoopPromise<ByteBuffer>
    var received = ByteBuffer()

    init(expected: Int, reply: EventLoopPromise<ByteBuffer>) {
        self.expected = expected
        self.reply = reply
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        received.writeBuffer(&bytes)
        if received.readableBytes >= expected { reply.succeed(received) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reply.fail(error)
        context.close(promise: nil)
    }
}

/// Sends `payload` from a SwiftNIO event loop to the reactor server at `address` and returns its echo.
func echo(_ payload: String, from eventLoop: EventLoop, to address: ReactorSocketAddress) throws -> ByteBuffer {
    let target: SocketAddress = try SocketAddress(ipAddress: address.host, port: address.port)
    let reply: EventLoopPromise<ByteBuffer> = eventLoop.makePromise()
    let expected = payload.utf8.count
    let channel = try ClientBootstrap(group: eventLoop)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(Collect(expected: expected, reply: reply))
            }
        }
        .connect(to: target)
        .wait()
    try channel.writeAndFlush(ByteBuffer(string: payload)).wait()
    let echoed = try reply.futureResult.wait()
    try channel.close().wait()
    return echoed
}

/// Opens `path` read-only with swift-system; a failure comes back as its `Errno`.
///
/// `FileDescriptor` is the one name here that must be qualified: NIOCore (a protocol) and SystemPackage (a struct)
/// both declare it, a collision between those two packages that no reactor name takes part in.
func openReadOnly(_ path: FilePath) -> Result<SystemPackage.FileDescriptor, Errno> {
    do {
        return .success(try SystemPackage.FileDescriptor.open(path, .readOnly))
    } catch let errno as Errno {
        return .failure(errno)
    } catch {
        preconditionFailure("FileDescriptor.open threw \(error)")
    }
}

/// Every public type of the swift-reactor libraries, spelled unqualified next to the modules imported above.
enum EveryReactorType {
    // ReactorCore
    typealias AClient<H: StreamHandler> = Client<H>
    typealias AServer<H: StreamHandler> = Server<H>
    typealias ADecoded<D: MessageDecoder, H: MessageHandler> = Decoded<D, H>
    typealias Core = (
        FrameView, ReplyHandler, LengthFieldDecoder, LengthFieldEncoder, DelimiterDecoder, DecodeStep,
        MessageDecodingError, ReactorStatistics, ServerConfiguration, ConnectionLimits, ConnectionID, CloseReason,
        ConnectionHandle, ClientConfiguration, TerminationSignals, SystemError, ReactorSocketAddress, ReactorLoop,
        LoopTimer, PoolStatistics
    )
    typealias CoreProtocols = (any MessageHandler, any FrameHandler, any MessageDecoder, any StreamHandler)
    static func noncopyable(_ input: borrowing InboundBytes, _ connection: borrowing ConnectionContext) {}
    // ReactorRESP
    typealias ARESPStreamHandler<H: RESPCommandHandler> = RESPStreamHandler<H>
    typealias RESP = (
        RESPProtocolError, RESPCommandTable<Int>, RESPCommandName, RESPArguments, RESPFormat, RESPRequestDecoder,
        any RESPSpecializedHandler, any RESPCommandHandler
    )
    static func noncopyable(_ command: borrowing RESPCommand) {}
    // ReactorHTTP1
    typealias AHTTP1StreamHandler<H: HTTP1RequestHandler> = HTTP1StreamHandler<H>
    typealias HTTP1 = (
        HTTP1RequestError, HTTP1RequestDecoder, HTTP1DateCache, HTTP1Version, HTTP1DecodedRequest, HTTP1Status,
        any HTTP1SpecializedHandler, any HTTP1RequestHandler
    )
    static func noncopyable(_ head: borrowing HTTP1RequestHead) {}
    // ReactorRedisStore
    typealias ARedisCommandHandler<K: Keyspace> = RedisCommandHandler<K>
    typealias RedisStore = (
        KeyspaceShard, any Keyspace, ShardedKeyspace, UnlockedKeyspace, RedisServer, RedisSettings, RedisClient,
        UnlockedRedisHandler, ShardedRedisHandler
    )
    // ReactorHTTPEndpoints
    typealias Endpoints = (HTTPBenchmarkEndpoints, HTTPBenchmarkServer)
    // ReactorServiceLifecycle
    typealias AReactorService<Handler: StreamHandler> = ReactorService<Handler>
    // ReactorTLS, and ReactorCore's transport hook, next to NIOSSL's TLSConfiguration and TLSVersion
    typealias TLS = (
        TLSServerContext, TLSClientContext, TLSServerConfiguration, TLSClientConfiguration, TLSPEMSource,
        TLSProtocolVersion, TLSClientCertificatePolicy, TLSSetupError, TLSConnection, TLSMemory, TLSErrorCode,
        TransportProgress, TransportRole, TransportSetup, any ConnectionTransport, any ConnectionTransportProvider
    )
    typealias NIOTLS = (TLSConfiguration, TLSVersion, NIOSSLContext)
}

@main
enum NameCompatibility {
    static func main() throws {
        let started = Date()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let nioLoop: EventLoop = group.next()
        let firstBytes: EventLoopPromise<Data> = nioLoop.makePromise()

        let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, subReactors: 1)
        let server = Server(configuration: configuration, handler: Echo(firstBytes: firstBytes))
        try server.start()
        defer { server.stop() }
        guard let address = server.localAddress else { preconditionFailure("the server has no local address") }

        let echoed = try echo("hello from SwiftNIO", from: nioLoop, to: address)
        let seen = try firstBytes.futureResult.wait()
        precondition(String(buffer: echoed) == "hello from SwiftNIO" && seen == Data("hello from SwiftNIO".utf8))

        guard case .failure(let errno) = openReadOnly("/nonexistent/swift-reactor"), errno == .noSuchFileOrDirectory
        else { preconditionFailure("opening a missing file did not fail with ENOENT") }

        let elapsed = Date().timeIntervalSince(started)
        print("reactor server at \(address) echoed \(echoed.readableBytes) bytes to a SwiftNIO client in \(elapsed) s")
    }
}
