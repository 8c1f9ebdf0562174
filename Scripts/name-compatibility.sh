#!/usr/bin/env bash
# The name compatibility check: builds Compatibility/, a package whose one file imports every swift-reactor library
# next to NIOCore, NIOPosix, NIOSSL, SystemPackage (swift-system) and Foundation and spells each side's common types
# unqualified (EventLoop, SocketAddress, ByteBuffer, Errno, FileDescriptor, Data, Date beside ReactorLoop,
# ReactorSocketAddress, Server, ServerConfiguration, ConnectionContext and every other public reactor type).
# A reactor type that takes a name one of those modules also declares makes the build fail ("is ambiguous").
# Kept out of `swift test` so the test run stays quick; it builds SwiftNIO, so a cold build takes minutes.
#
#     Scripts/name-compatibility.sh          # build (debug) and print how long it took
#     Scripts/name-compatibility.sh --run    # then run the program: a SwiftNIO client echoes through a reactor server
set -euo pipefail
cd "$(dirname "$0")/.."

started=$(date +%s.%N)
swift build --package-path Compatibility
finished=$(date +%s.%N)
size=$(du -sh Compatibility/.build | cut -f1)
awk -v s="$started" -v f="$finished" -v size="$size" \
    'BEGIN { printf "name compatibility: Compatibility/ built in %.1f s (%s in Compatibility/.build)\n", f - s, size }'
if [[ "${1:-}" == "--run" ]]; then
    swift run --skip-build --package-path Compatibility NameCompatibility
fi
