#!/usr/bin/env bash
# Writes the handcrafted seed inputs in LengthFieldDecoderFuzzer/, DelimiterDecoderFuzzer/, ReadPathFuzzer/,
# RESPRequestDecoderFuzzer/, RedisCommandFuzzer/, HTTPServerFuzzer/ and TLSReadPathFuzzer/ (committed; rerun after
# changing an input layout). The layouts are documented in LengthFieldCheck.swift, DelimiterCheck.swift,
# ReadPathCheck.swift, RESPCheck.swift, RESPStreamBuilder.swift, RedisCommandCheck.swift, RedisRequestBuilder.swift,
# HTTPServerCheck.swift, HTTPRequestBuilder.swift, TLSReadPathCheck.swift and TLSRecordsRun.swift.
set -euo pipefail
cd "$(dirname "$0")"

# b HEX...: the bytes given in hex.
b() { for x in "$@"; do printf "\\x$x"; done; }
# u32 N: a 4-byte big-endian length prefix.
u32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
# frame TEXT: one frame carrying TEXT.
frame() { u32 ${#1}; printf '%s' "$1"; }
# frames COUNT LENGTH: COUNT frames of LENGTH bytes of 'a'.
frames() { for _ in $(seq "$1"); do u32 "$2"; filled "$2" 61; done; }
# filled N BYTE: N copies of BYTE (two hex digits).
filled() { head -c "$1" /dev/zero | tr '\0' "\\$(printf %03o $((16#$2)))"; }
seed() { printf '\x00\x00\x00\x00\x00\x00\x00\x2a'; }

# LengthFieldDecoderFuzzer: field (bits 0-2 width index of [1, 2, 3, 4, 8], bit 3 little endian, bits 4-6 offset),
# adjustment (n % 17 - 8: 08 is 0, 04 is -4, 00 is -8), strip (40: the default; bit 7 clear: n % (header + 1); bit 7
# set: header + 1 + n % 4), mode (bits 0-1 limit range 0-16 / 0-255 / 0-65535 / large: n % 7 of [2^20, 2^32 - 2,
# 2^32 - 1, 2^32, 2^40, 2^61, Int.max], bits 2-5 piece shift),
# limit (2 bytes), seed (8 bytes), stream.
d=LengthFieldDecoderFuzzer
rm -rf "$d" && mkdir "$d"
lf() { b "$@"; seed; }
{ lf 03 08 40 0a 04 00; frame hello; u32 0; frame 'world!'; } >"$d/default-format-several-frames"
{ lf 03 08 40 02 04 00; frame abc; frame defgh; } >"$d/default-format-one-byte-pieces"
{ lf 09 08 02 0a 04 00; b 02 00; printf hi; b 05 00; printf there; } >"$d/two-byte-little-endian-strip-2"
{ lf 03 04 04 0a 04 00; b 00 00 00 06; printf hi; b 00 00 00 04; } >"$d/length-counts-header-adjust-minus-4"
{ lf 13 08 00 0a 04 00; b 07 00 00 00 02; printf hi; b 08 00 00 00 00; } >"$d/type-byte-offset-1-strip-0"
{ lf 02 08 40 0a 04 00; b 00 00 02; printf xy; b 00 00 03; printf abc; } >"$d/three-byte-big-endian"
{ lf 0a 08 40 0a 04 00; b 02 00 00; printf xy; b 03 00 00; printf ab; } >"$d/three-byte-little-endian-truncated"
{ lf 04 08 40 0b 00 04; b 00 00 00 00 00 00 00 02; printf hi; b ff ff ff ff ff ff ff ff; } >"$d/eight-byte-huge-length"
{ lf 0c 08 40 0b 00 02; b 03 00 00 00 00 00 00 00; printf abc; b 00 00 00 00 00 00 00 40; } >"$d/eight-byte-little-endian-beyond-int62"
{ lf 03 08 40 0b 00 01; printf '\xff\xff\xff\xfe'; printf partial; } >"$d/length-at-limit-uint32-max-minus-1-pending"
{ lf 03 08 40 0b 00 01; printf '\xff\xff\xff\xff'; } >"$d/length-uint32-max-one-over-limit"
{ lf 04 08 40 0b 00 06; b 3f ff ff ff ff ff ff f0; printf tail; } >"$d/no-limit-eight-byte-length-pending"
{ lf 04 08 40 0b 00 06; b 00 00 00 00 00 00 00 01; printf x; b 40 00 00 00 00 00 00 00; } >"$d/no-limit-eight-byte-past-int62"
{ lf 00 00 40 0a 04 00; b 08 0a; printf xy; b 03; } >"$d/negative-adjusted-length"
{ lf 01 08 83 0a 04 00; b 00 01; printf x; b 00 00; } >"$d/strip-past-header-invalid"
{ lf 03 08 40 00 00 08; frame abc; u32 9; printf 123456789; } >"$d/frame-too-long"
{ lf 03 08 40 00 00 00; u32 0; u32 0; u32 1; printf x; } >"$d/limit-zero"
{ lf 03 10 40 0a 04 00; b 00 00 00 01; printf 'a12345678'; b 00 00; } >"$d/adjust-plus-8-truncated-header"
{ lf 43 08 40 26 ff ff; b 00 01 02 03; u32 3000; filled 3000 62; b 09 09 09 09; u32 0; } >"$d/offset-4-large-frame-large-pieces"

# DelimiterDecoderFuzzer: mode (bits 0-1 delimiters - 1 (n % 3), bit 2 strip, bit 3 map the stream onto
# \n \r a \0 x, bits 4-5 maxLength range 0-8 / 0-64 / 0-1024 / 0-65535, bits 6-7 both set: Int.max - n % 4),
# maxLength (2 bytes), three delimiters
# (length - 1, then the letters two bits each from the low end: 0 \n, 1 \r, 2 a, 3 \0), piece shift, seed, stream.
d=DelimiterDecoderFuzzer
rm -rf "$d" && mkdir "$d"
dl() { b "$@"; seed; }
lines() { dl "$1" 00 "$2" 00 00 01 01 00 00 "$3"; }
{ lines 15 40 04; printf 'abc\r\nde\nf\r\n\n'; } >"$d/lines-stripped"
{ lines 11 40 04; printf 'abc\r\nde\nf\r\n\nrest'; } >"$d/lines-kept-with-tail"
{ lines 15 40 00; printf 'ab\r\ncd\r\n\r\n'; } >"$d/lines-one-byte-pieces-split-crlf"
{ lines 05 04 0c; printf 'abcd\nabcde\n'; } >"$d/line-of-max-then-too-long"
{ lines 05 04 0c; printf 'abcdefgh'; } >"$d/no-delimiter-within-limit"
{ lines 05 05 0c; printf 'abcde\r\nabcde\r'; } >"$d/crlf-at-limit-then-cr-only"
{ lines 05 00 0c; printf '\n\r\n\n'; } >"$d/max-zero-empty-records"
{ dl 04 00 20 00 03 00 00 00 00 0c; printf 'one\0two\0\0three'; } >"$d/nul-terminated"
{ dl 0d 00 06 01 0a 02 2a 00 00 03; printf 'xaxaaxaaaxaaaa'; } >"$d/overlapping-aa-aaa-mapped"
{ dl 06 00 10 01 32 00 01 03 00 0c; printf 'ab\0cd\rxy\n\n\n\nz\r'; } >"$d/three-delimiters-different-last-bytes"
{ dl 2d 00 40 01 01 00 03 00 00 04; for i in $(seq 600); do b "$(printf %02x $(((i * 37 + i * i * 11) % 256)))"; done; } >"$d/mapped-random-stream"
{ dl 31 10 00 00 00 00 00 00 00 08; filled 3000 61; printf '\n'; filled 200 62; printf '\n'; } >"$d/long-line-large-pieces"
{ lines c5 00 08; printf 'abc\r\n'; filled 3000 61; } >"$d/lines-no-limit-int-max"

# ReadPathFuzzer: limits (bits 0-2 maxFrameLength index of [0, 1, 16, 255, 1000, 2048, 4096, 10000], bits 3-4
# style), byte 1 (bits 0-1 reactor SO_SNDBUF, 2-3 peer SO_SNDBUF: default, minimum, 8 KiB, 64 KiB; bit 4 the record
# mode; bit 5 wait for a header; bits 6-7 the record wait: none, exact, beyond, mixed), close after frame or record
# (0: never), piece shift, replies (bits 0-2 drain chance n/8, bits 3-4 replies per frame 1/2/4/8), seed, stream.
r=ReadPathFuzzer
rm -rf "$r" && mkdir "$r"
rp() { b "$@"; seed; }
{ rp 1c 00 00 0c 07; frame hello; u32 0; frame 'world!'; } >"$r/echo-several-frames"
{ rp 00 00 00 0c 07; u32 0; u32 0; u32 0; } >"$r/limit-zero-empty-frames"
{ rp 02 00 00 0c 07; frame abc; u32 17; filled 17 61; } >"$r/oversized-prefix"
{ rp 1c 00 00 0c 07; frame ok; printf '\xff\xff\xff\xff'; } >"$r/4gib-prefix"
{ rp 1c 00 02 0c 07; frame one; frame two; frame three; frame four; } >"$r/handler-closes-after-two"
{ rp 1c 00 00 0c 07; frame one; u32 50; printf partial; } >"$r/truncated-frame"
{ rp 0e 05 00 0c 00; u32 1500; filled 1500 61; u32 1500; filled 1500 62; frame end; } >"$r/backpressure-small-buffers"
{ rp 15 00 00 0c 07; u32 1500; filled 1500 63; u32 1500; filled 1500 64; } >"$r/write-buffer-overflow"
{ rp 07 00 00 09 07; u32 3000; filled 3000 65; frame after; } >"$r/direct-read-large-frame"
{ rp 1c 00 00 00 03; frame abc; frame defgh; u32 0; } >"$r/split-header-one-byte-pieces"
{ rp 0e 01 00 04 00; frames 30 100; } >"$r/pause-and-resume-reading"
{ rp 0e 01 00 04 10; frames 16 200; } >"$r/four-replies-partial-flush"
{ rp 0e 01 00 04 18; frames 30 100; } >"$r/eight-replies-write-buffer-overflow"
# Found by the fuzzer when the lingering close came in (the check then expected the close at the peer's end of stream).
b 1c 01 07 00 00 00 00 00 00 00 00 00 00 00 00 00 01 07 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 08 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 >"$r/handler-close-lingers-on-unread-input"

# Record mode. Records: rec0 N (1-byte header, N < 64 payload bytes), rec1 N (2-byte header, N < 16384), skip N (a
# 2-byte skip header; the N skipped bytes follow separately), strm N (a 2-byte stream header and N payload bytes).
rec0() { b "$(printf %02x "$1")"; filled "$1" 61; }
rec1() { b "$(printf %02x $((64 | $1 >> 8)))" "$(printf %02x $(($1 & 255)))"; filled "$1" 62; }
skip() { b "$(printf %02x $((128 | $1 >> 8)))" "$(printf %02x $(($1 & 255)))"; }
strm() { b "$(printf %02x $((192 | $1 >> 8)))" "$(printf %02x $(($1 & 255)))"; filled "$1" 63; }
{ rp 1f 10 00 06 07; rec0 0; rec0 5; rec1 100; skip 20; filled 20 78; strm 30; strm 0; rec0 3; } >"$r/records-every-kind"
{ rp 1f 50 00 03 07; rec0 2; skip 3000; filled 3000 78; rec0 4; rec1 700; } >"$r/records-skip-past-input-small-pieces"
{ rp 02 10 00 08 07; rec0 3; strm 5000; rec0 1; } >"$r/records-stream-record-over-buffer-limit"
{ rp 1f 70 00 02 07; rec1 300; rec0 63; rec1 1000; } >"$r/records-exact-wait-small-pieces"
{ rp 1c b0 00 05 07; rec0 10; rec1 40; rec0 0; } >"$r/records-beyond-wait-done-at-input-end"
# 2,052 bytes of a 2,053-byte record (one over maxBufferedInput 2,052), then the end: held in the chunk, refused.
{ rp 05 10 00 08 07; rec0 1; b 48 03; filled 2050 62; } >"$r/records-refused-one-over-buffer-limit"
{ rp 02 90 00 0c 07; rec0 4; rec1 300; rec0 4; } >"$r/records-refused-long-record"
{ rp 1f d0 02 0c 07; rec0 1; strm 4; rec0 2; rec0 3; } >"$r/records-handler-closes-after-two"
{ rp 1f 30 00 0c 07; rec0 3; b 41; } >"$r/records-truncated-header-waited-for"
{ rp 1f 10 00 0c 07; rec0 3; rec1 20; b 45 00; printf abc; } >"$r/records-truncated-data-record"
{ rp 15 15 00 0c 18; rec1 1500; rec1 1500; rec0 5; } >"$r/records-write-buffer-overflow"
{ rp 0e 15 00 04 08; for _ in $(seq 20); do rec1 200; done; } >"$r/records-pause-and-resume-reading"
# newBytesOffset after bytes were withheld (count < expected) and then shown by onRead: fixed in 25346b3.
b 1c 52 00 00 03 00 00 00 00 00 ff ff ff 06 ff ff ff ff 62 63 00 00 00 05 64 65 66 67 68 00 00 00 00 \
    >"$r/records-new-bytes-offset-after-withheld-read"
# Inputs that show known bugs (README.md, "Known bugs"): they fail until the bug is fixed.
# new-bytes-offset: stream 02 86, the 86 withheld, then the end: onInputEnded is told both bytes were shown.
b 1c 52 00 00 03 00 00 00 02 86 00 00 00 02 86 >"$r/bug-new-bytes-offset-counts-withheld-bytes-on-input-ended"
# overflow-reason: 8 replies of a 302-byte record (or a 304-byte frame) pass the 2 KiB cap, then close():
# closedByHandler is reported, with the replies discarded.
{ rp 17 10 01 0c 18; rec1 300; } >"$r/bug-overflow-reason-overwritten-by-close-records"
{ rp 17 00 01 0c 18; u32 300; filled 300 61; } >"$r/bug-overflow-reason-overwritten-by-close-frames"
# overflow-reason at the end of the input (onInputEnded writes past the cap; peerClosed is reported). Fails on
# new-bytes-offset first (a record is only left for onInputEnded when bytes were withheld).
{ b 17 90 00 07 18 00 00 00 00 00 00 00 01; rec1 300; } >"$r/bug-overflow-reason-overwritten-at-input-end"
# The fuzzer's own input for overflow-reason (minimised).
b 10 10 10 10 10 10 10 10 10 ac 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 0d 0d \
    0d 0d 0d 0d 0d 0d 0d 0d 0d 0d 0d 0d 0d 0d 0d 0d 0d 1f d0 02 0c 07 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 \
    10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 0d 0d 0d 0d 0d 0d 0d 0d 0d 0d 0d 0d 0d 0d 0d 0e 15 00 04 08 00 \
    00 00 00 00 00 00 2a 40 c8 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 \
    62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 \
    62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 65 90 00 00 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 \
    62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 01 00 00 00 00 00 00 11 62 62 62 62 62 62 62 62 \
    62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 00 00 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 \
    62 62 62 62 62 62 d0 02 75 72 62 62 62 62 62 62 62 62 62 62 62 62 62 62 40 c8 62 62 62 62 62 62 62 62 62 62 62 \
    62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 \
    62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 ff ff ff ff ff ff ff ff 62 62 62 62 \
    62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 \
    62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 \
    62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 \
    62 62 62 01 00 00 00 00 00 00 11 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 62 \
    >"$r/bug-overflow-reason-overwritten-by-close-found"

# RESPRequestDecoderFuzzer: mode (bits 0-1 maxInlineLength range 1-16 / 1-256 / 1-65536 / redis's 65536; bits 2-3
# maxBulkLength 0-16 / 0-1024 / redis's 512 MiB / large: n % 7 of [Int.max, Int.max - 1, Int.max - 64, Int.max / 2,
# 2^62, INT_MAX, 2^32]; bits 4-5 maxArguments 1-4 / 1-64 / redis's INT_MAX / large: n % 6 of [Int.max, INT_MAX + 1,
# INT_MAX - 1, 1023, 1024, 1025]; bit 6 build the stream from the rest), maxInlineLength (2 bytes), maxBulkLength
# (2 bytes), maxArguments (1 byte), piece shift, seed, stream (or the program that builds it: RESPStreamBuilder.swift).
d=RESPRequestDecoderFuzzer
rm -rf "$d" && mkdir "$d"
resp() { b "$@"; seed; }
# Redis's limits: 2b raw, 6b built.
redis() { resp 2b 00 00 00 00 00 "$1"; }
built() { resp 6b 00 00 00 00 00 "$1"; }
# Small limits: maxInlineLength 16, maxBulkLength 16, maxArguments 2.
small() { resp 00 00 0f 00 10 01 "$1"; }
{ redis 03; printf '*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n*1\r\n$4\r\nPING\r\n'; } \
    >"$d/multibulk-pipelined"
{ redis 00; printf '*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n*1\r\n$0\r\n\r\n'; } >"$d/multibulk-one-byte-pieces"
{ redis 0c; printf '*1\r\n$4\r\n\r\n\0\xff\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000\r\n'; filled 3000 76; printf '\r\n'; } \
    >"$d/multibulk-binary-and-large-value"
{ redis 02; printf 'PING\r\nPING\n   SET  k   v  \r\nSET k "a b"\r\nECHO "\\x41\\n\\t\\\\\\""\r\n'
    printf "ECHO 'it\\\\'s'\r\nPING a\"b c\"\r\nECHO \"\"\r\nPING\r\r\nA\x0bB\x0cC\r\n"; } >"$d/inline-quotes-and-escapes"
{ redis 01; printf '\r\n\n   \n*0\r\n*-1\r\n*-5\r\nPING\r\n\r\n'; } >"$d/skips"
{ redis 01; printf '*1\r\n$4\r\nPINGxx*1\rX$4\rYPING\r\n*1\r\n$2\r\nhi\n\n'; } >"$d/unchecked-bytes-after-cr-and-payload"
{ redis 00; printf 'PING\0a\0\0b\r\n\0\0\r\n'; } >"$d/inline-nul-separates"
# Each protocol error between two PINGs (the first answered, the second never decoded).
while read -r name error; do
    { redis 02; printf 'PING\r\n'; printf "$error"; printf '\r\nPING\r\n'; } >"$d/error-$name"
done <<'ERRORS'
count-leading-zero *01
count-minus-zero *-0
count-plus *+1
count-trailing-space *1\x20
count-over-int-max *2147483648
count-over-int64 *12345678901234567890
count-lf-only *1\n$4
expected-dollar *1\r\nx
bulk-length-negative *1\r\n$-1
bulk-length-leading-zero *1\r\n$04
bulk-length-over-512-mib *1\r\n$536870913
unbalanced-closing-quote-then-letter PING\x20"a"b
unbalanced-single-quote PING\x20'abc
ERRORS
{ redis 00; printf '*2147483647\r\n$1\r\na\r\n'; } >"$d/count-int-max-pending"
{ small 00; printf '*1\r\n$16\r\n0123456789abcdef\r\n*1\r\n$17\r\n'; } >"$d/bulk-at-limit-then-over"
{ small 02; printf '*2\r\n$1\r\na\r\n$1\r\nb\r\n*3\r\n'; } >"$d/arguments-at-limit-then-over"
{ small 00; printf 'PING aaaaaaaaaaaPING'; } >"$d/inline-line-over-limit"
{ small 00; printf 'PING aaaaaaaaaa\r\n'; } >"$d/inline-line-at-limit"
{ small 00; printf '*11111111111111111'; } >"$d/count-line-over-limit"
{ small 00; printf '*1\r\n$111111111111111111'; } >"$d/bulk-line-over-limit"
# maxInlineLength 1: a count or length line must arrive with its \r in the same piece as its first byte.
{ resp 04 00 00 00 10 00 06; printf '*1\r\n$16\r\n0123456789abcdef\r\n*1\r\n$0\r\n\r\n'; } >"$d/inline-limit-one"
# maxBulkLength Int.max / 2, maxArguments Int.max: a length just at the limit, pending.
{ resp 3f 00 00 00 03 00 02; printf '*1\r\n$4611686018427387903\r\nabc'; } >"$d/large-limits-huge-length-pending"
# Built streams. Every operation once (RESPStreamBuilder): a multibulk request and the same again, an inline request
# with escapes, skips, raw bytes, a mutation, then a count at maxArguments whose arguments never all come.
{ built 04; b 00 02 00 03 00 05 01 09 01 01 02 00 00 05 00 02 01 07 0c 00 03 00 01 02 00 02 00 02 01 03 02 41 42 0d \
    07 00 00 03 2a 08 01 05 00 03; } >"$d/built-every-operation"
{ built 06; b 00 82 1e 00 02 00 00 c8 00 00 09 07; } >"$d/built-thirty-arguments-pipelined"
# Lines at redis's 64 KiB limit: an inline line of 65,536 bytes and its end; 65,537 and its end (accepted if it
# arrives whole); a count line of 65,537 digits and a length line of 65,536 (too big, or invalid if they arrive whole).
{ built 0b; b 06 34; } >"$d/built-inline-line-at-64-kib"
{ built 0c; b 06 30; } >"$d/built-inline-line-one-over-64-kib-with-end"
{ built 0c; b 06 21; } >"$d/built-count-line-one-over-64-kib"
{ built 0c; b 06 2a; } >"$d/built-length-line-at-64-kib"
# maxInlineLength 33, maxBulkLength 8, maxArguments 3: values of 7 and 8 bytes, then a length of 9.
{ resp 41 00 20 00 08 02 05; b 00 01 00 e4 00 05 00 00 00 00 e5 00 05 03; } >"$d/built-small-limits-at-limit"
{ built 05; b 08 00 08 01 08 02 08 03; } >"$d/built-newline-only-lines"
{ built 03; b 04 05 04 0e 04 18 04 1a; } >"$d/built-malformed"
# Inputs that show known bugs (README.md, "Known bugs"): they fail until the bug is fixed.
# nul-after-quote: a closing quote followed by NUL is unbalanced quotes, though NUL separates arguments otherwise.
{ redis 00; printf 'ECHO "a"\0b\r\n'; } >"$d/bug-nul-after-quote"
# bulk-length-overflow: with maxBulkLength Int.max, the payload end start + length + 2 overflows (a trap).
{ resp 2f 00 00 00 00 00 03; printf '*1\r\n$9223372036854775807\r\n'; } >"$d/bug-bulk-length-overflow"

# RedisCommandFuzzer: flags (bit 0 sharded keyspace, bits 1-2 server SO_SNDBUF default / minimum / 8 KiB / 64 KiB,
# bit 3 minimal client SO_SNDBUF, bits 4-6 drain chance n/8), piece shift, seed, program (RedisRequestBuilder.swift:
# an operation byte, then its operands). A command: 00, the name's index in the sorted table (append 00, config 03,
# exec 0a, get 0f, hello 13, hgetall 16, host: 19, hset 1a, incr 1b, keys 1d, lpush 21, lrange 22, mset 24, multi 25,
# ping 28, quit 2b, rpush 2d, sadd 2e, scan 2f, set 32, smembers 35, zadd 3b, zrange 40, zscore 42...), an argument
# count (bit 7: n % 16), then per argument a selector: 00 08 10 18 the keys k0-k3, 03 i numbers[i], 05 i
# options[i], 06 + 8n n letters, 07 n n raw bytes.
d=RedisCommandFuzzer
rm -rf "$d" && mkdir "$d"
redis() { b "$1" "$2"; seed; }
# SET, GET, INCR on a string, MSET, INCRBY past Int64, MGET, GETSET, APPEND, STRLEN, SET EX, SET NX, GETDEL.
strings="00 32 02 00 1e  00 0f 01 00  00 1b 01 00  00 24 04 00 03 01 08 03 02  00 1c 02 08 03 08  00 23 02 00 08
    00 11 02 00 2e  00 00 02 00 1e  00 38 01 00  00 32 84 10 1e 05 00 03 05  00 32 83 18 1e 05 04  00 10 01 00"
# A list, a set, a hash and a sorted set on the same keys, and each read as the wrong type.
types="00 21 02 00 1e  00 2e 02 00 1e  00 1a 03 08 1e 2e  00 3b 03 10 03 0b 1e  00 0f 01 08
    00 40 84 10 03 00 03 02 05 0c  00 16 01 08  00 35 01 00  00 22 03 00 03 00 03 02  00 20 02 00 03 05"
# shellcheck disable=SC2086
{ redis 00 05; b $strings; } >"$d/strings"
# shellcheck disable=SC2086
{ redis 00 05; b $types; } >"$d/wrong-types"
# shellcheck disable=SC2086
{ redis 01 03; b $types; } >"$d/wrong-types-sharded"
# HELLO 3, then maps, sets, doubles and nulls in RESP3, CONFIG GET maxclients, HELLO 2 and a RESP2 null.
# shellcheck disable=SC2086
{ redis 00 04; b 0c 00 $types 00 0f 01 18 00 2e 02 18 1e 00 35 01 18 00 42 02 10 1e 00 03 02 05 0a 05 22 0c 01 \
    00 0f 01 18; } >"$d/resp3-after-hello-3"
# MULTI, SET, HELLO 3 and GET queued, EXEC (its array switches to RESP3 inside), then MULTI, an unknown command
# (the transaction aborts), EXEC (EXECABORT), and DISCARD without MULTI.
{ redis 00 03; b 00 25 00 00 32 02 00 1e 0c 00 00 0f 01 00 00 0a 00 00 25 00 0a 04 78 79 7a 00 00 0a 00 00 08 00; } \
    >"$d/transactions"
# QUIT ends the connection after its +OK: the PING after it is never answered.
{ redis 00 02; b 00 28 00 0f 00 00 28 00; } >"$d/quit-then-ping"
# A protocol error (*x) between two PINGs, and an unbalanced quote in an inline request.
{ redis 00 02; b 00 28 00 0e 03 2a 78 0d 0a 00 28 00; } >"$d/protocol-error-between-pings"
{ redis 00 02; b 00 28 00 0e 06 45 20 22 61 22 62 0a 00 28 00; } >"$d/protocol-error-unbalanced-quote"
# host: (redis's HTTP guard) closes without a reply, inside MULTI too.
{ redis 00 02; b 00 28 00 00 19 00 00 28 00; } >"$d/http-guard-closes"
{ redis 00 02; b 00 25 00 00 28 00 00 19 00 00 28 00; } >"$d/http-guard-closes-in-transaction"
# An unknown command, unknown and known subcommands (CONFIG nosuch, CLIENT ID, COMMAND COUNT, COMMAND DOCS).
{ redis 00 04; b 0a 04 78 79 7a 00 00 03 01 05 25 00 01 01 05 19 00 02 01 05 12 00 02 01 05 1a; } >"$d/unknown-and-subcommands"
# Inline requests: ping, set k0 a, get k0.
{ redis 00 01; b 0b 28 00 0b 32 02 00 0d 0b 0f 01 00; } >"$d/inline-requests"
# Expiry, KEYS *, SCAN 0 MATCH k* COUNT 10, DBSIZE, SELECT 1, FLUSHDB, SELECT 16 and -1 (errors).
{ redis 00 06; b 00 32 02 00 1e 00 0c 02 00 03 05 00 39 01 00 00 27 02 08 03 01 00 1d 01 03 1b \
    00 2f 85 03 00 05 11 03 1c 05 12 03 05 00 04 00 0d 01 00 0e 00 0d 04 0d 05; } >"$d/expiry-keys-scan-select"
# Pipelining: PING five times and GET k0 eight times in one piece, then QUIT.
{ redis 70 0b; b 00 28 00 0f ff 00 0f 01 00 0f 07; } >"$d/pipelined"
# Minimal socket buffers both ways and a long list read four times: partial writes, queued replies, EPOLLOUT.
{ redis 0a 0c; b 00 2d 8f 00 2e 2e 2e 2e 2e 2e 2e 2e 2e 2e 2e 2e 2e 2e 00 22 03 00 03 00 03 02 0f 13; } \
    >"$d/small-buffers-long-list"
# regression: the crash libFuzzer found at 550,636 executions (e7ff05c). SCAN from a cursor inside a table with a
# COUNT near Int.max overflowed first + budget. Kept byte for byte as the fuzzer wrote it.
b 00 06 00 00 00 00 00 0a 08 00 00 00 05 00 00 00 42 00 00 02 08 00 42 00 00 02 08 00 1c 02 00 e3 e3 e3 e3 00 00 2a 00 \
    32 02 0c 02 00 00 00 05 00 39 01 00 00 27 02 08 03 01 00 03 d4 00 00 00 05 00 39 01 00 00 27 02 08 03 01 00 1d 01 \
    03 1b 00 2f 85 03 2c 05 11 03 1c 05 12 03 2c e3 >"$d/regression-scan-count-overflow"

# HTTPServerFuzzer: flags (bit 0 small decoder limits, bit 1 minimal server SO_SNDBUF, bits 4-6 read chance n/8),
# piece shift (2^(n % 11)), seed, small limits (request line 16 + n % 64, header section 16 + 2n, fields 1 + n % 8,
# body n % 128, chunk line 1 + n % 16), program (HTTPRequestBuilder.swift). A request: an operation 00-03, then method
# (0 GET, 1 HEAD, 2 POST, 5 PUT, 6 DELETE, 7 get), target (0 /plaintext, 1 /json, 2 /echo, 6 /, 7 /nope, 8
# /plaintext?x=1, 10 *), flags (bit 0 HTTP/1.0; bits 1-3 Connection: 1 close, 2 keep-alive, 4 upgrade, close; bit 4
# Expect: 100-continue; bit 5 lower-case names; bit 6 an empty line first; bit 7 no Host in HTTP/1.0), body kind (0
# none, 1 Content-Length, 2 chunked, 3 Content-Length: n, n), size (n % 48, bit 7: (n & 127) * 24), body offset (x 4),
# extra fields (n % 4 of them), and for a chunked body a layout byte (n % 4 chunks, bits 2-3 extension, bits 4-5
# trailers, bit 6 upper case, bit 7 zero-padded) and a size byte per chunk. 04 m: the same with mutation m (see
# HTTPRequestBuilder.Mutation: 0 CL with chunked, 1 two CLs, 8 obs-fold, 13 bad request line, 22 HTTP/2 preface, 23
# HTTP/0.9, 25 long target...); 05 n: 1 + n % 32 raw bytes; 06 p x: XOR a byte of the last request; 07 c: a request
# cut after c % its length bytes.
d=HTTPServerFuzzer
rm -rf "$d" && mkdir "$d"
# hs FLAGS PIECE: the header with the default limits (the small-limit bytes are read but unused).
hs() { b "$1" "$2"; seed; b 00 00 00 00 00; }
# hss FLAGS PIECE RL HS FIELDS BODY CHUNK: the header with small limits.
hss() { b "$1" "$2"; seed; b "$3" "$4" "$5" "$6" "$7"; }
# r METHOD TARGET FLAGS BODY SIZE OFFSET EXTRAS [CHUNKS...]: a request (operation 00).
r() { b 00 "$@"; }
plain() { r 00 00 00 00 00 00 00; }
json() { r 00 01 00 00 00 00 00; }
echo20() { r 02 02 00 01 14 03 00; }
# Every endpoint pipelined, in one piece and in one-byte pieces: GET and HEAD of /plaintext and /json, POST /echo,
# PUT /plaintext and GET /echo (405), GET /nope (404), HEAD /echo, a lower-case method (405), POST /echo with a
# Content-Length list and three extra fields.
every() {
    plain; json; echo20; r 01 00 00 00 00 00 00; r 01 01 00 00 00 00 00; r 05 00 00 00 00 00 00; r 00 02 00 00 00 00 00
    r 00 07 00 00 00 00 00; r 01 02 00 00 00 00 00; r 07 00 00 00 00 00 00; r 02 02 00 03 21 10 e7
}
{ hs 70 0a; every; } >"$d/every-endpoint-pipelined"
{ hs 00 00; every; } >"$d/every-endpoint-one-byte-pieces"
# POST /echo chunked: 3 chunks (6, 17 and 1 + 39 x 16 bytes), extensions, two trailers, upper-case zero-padded sizes;
# then the same with Expect: 100-continue in lower-case field names, in small pieces; then a 2,400-byte body.
{ hs 30 03; r 02 02 00 02 00 10 00 e7 05 10 a7; r 02 02 30 02 00 40 00 a7 05 10 27; r 02 02 00 01 e4 00 00; } \
    >"$d/echo-chunked-extensions-trailers-continue"
# HTTP/1.0 with keep-alive (and an empty line first), then without Connection (closes after it); a third never
# answered.
{ hs 70 0a; r 00 00 45 00 00 00 00; r 00 01 01 00 00 00 00; plain; } >"$d/http10-keep-alive-then-close"
# Connection: close on the second request: the third is never answered.
{ hs 70 0a; plain; r 00 01 02 00 00 00 00; echo20; } >"$d/close-then-more"
# Expect: 100-continue with a body arriving in one-byte pieces (the 100 comes), and in one piece (it may not).
{ hs 00 00; r 02 02 10 01 20 00 00; plain; } >"$d/expect-continue-one-byte-pieces"
{ hs 70 0a; r 02 02 10 01 20 00 00; plain; } >"$d/expect-continue-one-piece"
# Each mutation between a GET /plaintext and a GET /json: the first answered, the mutated one refused, the third never.
for m in $(seq 0 27); do
    { hs 70 0a; plain; b 04 "$(printf %02x "$m")"; r 02 02 00 02 10 00 00 03 05 05 05; json; } >"$d/mutation-$m"
done
# Small limits: request line 40 (24 for the long target), header section 80, 4 fields, body 16, chunk line 4: a request within them, then a
# body over it (413), a long target (414), too many fields (431), a long chunk-size line (400).
{ hss 71 0a 18 20 03 10 03; plain; r 02 02 00 01 11 00 00; } >"$d/small-limits-body-too-large"
{ hss 71 0a 08 20 03 10 03; plain; r 00 0b 00 00 00 00 00; plain; } >"$d/small-limits-target-too-long"
{ hss 71 0a 18 20 03 10 03; plain; r 00 00 00 00 00 00 03; } >"$d/small-limits-fields"
{ hss 71 0a 18 20 03 10 03; r 02 02 00 02 00 00 00 c9 05; } >"$d/small-limits-chunk-line"
# A request line longer than both limits with the header section limit at 16 (found: 414 whole, 431 byte by byte).
b 01 79 79 f0 00 79 79 79 79 00 00 00 00 fd 00 0a 0a >"$d/found-request-line-limit-above-header-limit"
# A method check past what a head cut short shows before the request line limit: 414 in pieces, 400 whole (fixed).
b 01 00 00 00 00 00 00 05 00 00 00 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 6d 00 00 00 00 00 02 00 00 00 00 00 00 00 07 00 00 00 00 00 00 01 6a 02 00 00 00 f5 ff ff fc 00 00 00 07 00 00 00 00 00 00 00 02 02 00 03 21 10 e7 >"$d/found-method-check-past-the-line-limit"
# A request cut short at the end, raw bytes after two requests, a byte changed in the second.
{ hs 70 02; plain; b 07 30; echo20; } >"$d/truncated-at-end"
{ hs 70 0a; plain; json; b 05 12; printf 'GET /json HTTP/1.1\r\n'; } >"$d/raw-bytes-after"
{ hs 70 0a; plain; echo20; b 06 05 41; } >"$d/byte-changed"
# Minimal server SO_SNDBUF, pipelined 2,400-byte echoes (up to the 16 KiB stream limit) never read until the end.
{ hs 02 0a; for _ in $(seq 40); do r 02 02 00 01 e4 00 00; done; } >"$d/small-send-buffer-many-echoes"

# TLSReadPathFuzzer: flags (bit 0 records mode, bits 1-2 limits style: 1 small read budget, 2 small watermarks; bit 3
# minimal server SO_SNDBUF, bit 4 minimal client SO_SNDBUF, bits 5-6 read chance 2n/8, bit 7 full handshake, else
# resumed), shape (bits 0-3 piece shift 2^(n % 15), bit 4 TLS 1.2, bits 5-7 suite), seed, then the raw client stream
# or the program (TLSRecordsRun.swift): 00 n write (n + 1 bytes; n >= 192: (n - 191) KiB); 01 n p p m corrupt a
# byte; 02 k v v n forged header (k: 0 type v, 1 version v, 2 zero-length record first); 03 t v v l l raw record;
# 04 l l record of 16,641 + l bytes; 05 close_notify; 06 end of stream; 07 s (0 read, 1 wait for the echo,
# 2 renegotiation / KeyUpdate, 3 renegotiation / KeyUpdate with update_requested). No key is in any seed: the
# ClientHellos below carry only public values (a random, an X25519 public share).
d=TLSReadPathFuzzer
rm -rf "$d" && mkdir "$d"
ts() { b "$@"; seed; }
# A TLS 1.3 and a TLS 1.2 ClientHello, as `openssl s_client` (OpenSSL 3.0) sent them.
hello13=16030100ee010000ea0303860ac039481d0ede0154bfdcf0b5014bbacaf7faed5d0fc1093c427823c2fa4720aaf55dd6
hello13+=299b34ddc1c23559e6e0276e336d43307fe5855dcc99db49350857b3000813021303130100ff010000990000000e000c
hello13+=0000096c6f63616c686f7374000b000403000102000a00160014001d0017001e00190018010001010102010301040023
hello13+=00000016000000170000000d001e001c040305030603080708080809080a080b080408050806040105010601002b0003
hello13+=020304002d00020101003300260024001d0020ab6bea28ddf3caa4ed4f2fe20cca6dd79b6b6003109eab4de806d0371a
hello13+=6f8831
hello12=16030100b3010000af03034b89058ce925f80e27ac31ab44d717b4aa2cecaf1a80969c8a891a20a67ea47c000038c02c
hello12+=c030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c
hello12+=0035002f00ff0100004e000b000403000102000a000c000a001d0017001e001900180016000000170000000d002a0028
hello12+=040305030603080708080809080a080b080408050806040105010601030303010302040205020602
hex() { printf '%s' "$1" | sed 's/../\\x&/g' | xargs -0 printf '%b'; }

# Raw mode: the input is the client's whole stream.
ts 00 0e >"$d/raw-empty"
{ ts 00 0e; printf 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'; } >"$d/raw-plain-http"
{ ts 60 02; printf '*1\r\n$4\r\nPING\r\n'; } >"$d/raw-plain-resp-small-pieces"
{ ts 00 0e; filled 64 00; } >"$d/raw-zeros"
{ ts 00 0e; b 16 03 01 00 b3 01 00 00 af 03 03 4b 89; } >"$d/raw-hello-cut-short"
{ ts 00 0e; b 16 03 01 ff ff; filled 300 41; } >"$d/raw-record-too-long"
{ ts 00 0e; b 15 03 03 00 02 02 28; } >"$d/raw-alert-first"
{ ts 00 0e; b 80 2b 01 03 03 00 12 00 00 00 10 00 00 2f 00 c0 2b 00 c0 2f 00 00 ff 00 00 35 00 00 9c; filled 16 5a; } \
    >"$d/raw-sslv2-format-hello"
# Found: the alert refusing a first record goes out with that record's version (3.16 here).
b 00 01 00 00 00 6d 05 00 00 00 00 03 10 00 00 00 00 >"$d/found-raw-alert-version-3-16"
{ ts 00 0e; hex "$hello13"; } >"$d/raw-client-hello-13-then-end"
{ ts 00 0e; hex "$hello12"; } >"$d/raw-client-hello-12-then-end"
{ ts 00 00; hex "$hello13"; } >"$d/raw-client-hello-13-one-byte-pieces"
{ ts 00 0e; hex "$hello13" | head -c 100; b ff; hex "$hello13" | tail -c +102; } >"$d/raw-client-hello-13-byte-changed"
{ ts 00 0e; hex "$hello12"; b 14 03 03 00 01 01 16 03 03 00 10; filled 16 00; } >"$d/raw-client-hello-12-then-garbage"
{ ts 00 0e; hex "$hello13"; hex "$hello13"; } >"$d/raw-client-hello-13-twice"

# Records mode, TLS 1.3 (shape 0e) and 1.2 (1e), resumed and full (flags 81): valid writes, then close_notify.
for v in 13 12; do
    if [ "$v" = 13 ]; then sh=0e; else sh=1e; fi
    { ts 01 "$sh"; b 00 10 00 c0 05; } >"$d/write-close-notify-$v"
    { ts 81 "$sh"; b 00 10 00 c0 05; } >"$d/full-handshake-write-close-notify-$v"
    { ts 61 "$sh"; b 00 ff 00 ff 07 01 00 50 05; } >"$d/large-writes-sync-close-notify-$v"
    { ts 01 "$(printf %02x $((16#$sh & 0xf0)))"; b 00 20 00 c2 05; } >"$d/one-byte-pieces-$v"
    { ts 03 "$sh"; b 00 ff 00 c8 00 10 05; } >"$d/small-read-budget-$v"
    { ts 05 "$sh"; b 00 ff 00 ff 00 10 05; } >"$d/small-watermarks-$v"
    { ts 17 "$sh"; b 00 ff 00 10 00 ff 05; } >"$d/small-budget-watermarks-client-buffer-$v"
    # The first bad record: nothing after it is delivered (the writes after it are valid records).
    { ts 21 "$sh"; b 00 10 01 20 00 03 5a 00 10 00 10 05; } >"$d/corrupted-record-$v"
    { ts 21 "$sh"; b 00 10 01 ff ff ff 01 00 10; } >"$d/corrupted-tag-$v"
    { ts 21 "$sh"; b 00 10 02 00 00 15 10 00 10; } >"$d/forged-type-alert-$v"
    { ts 21 "$sh"; b 00 10 02 00 00 14 10 00 10; } >"$d/forged-type-change-cipher-spec-$v"
    { ts 21 "$sh"; b 00 10 02 01 03 01 10 00 10; } >"$d/forged-version-3-1-$v"
    { ts 21 "$sh"; b 00 10 02 01 02 03 10 00 10; } >"$d/forged-version-2-3-$v"
    { ts 21 "$sh"; b 00 10 02 02 00 00 10 00 10; } >"$d/zero-length-record-$v"
    { ts 21 "$sh"; b 00 10 03 14 03 03 00 01 01 00 10; } >"$d/raw-change-cipher-spec-$v"
    { ts 21 "$sh"; b 00 10 03 15 03 03 00 02 01 00 00 10; } >"$d/raw-plaintext-close-notify-$v"
    { ts 21 "$sh"; b 00 10 03 17 03 03 00 20; filled 32 61; b 00 10; } >"$d/raw-application-data-$v"
    { ts 21 "$sh"; b 00 10 03 17 03 03 10 00 00 10; } >"$d/raw-long-record-$v"
    { ts 21 "$sh"; b 00 10 03 18 03 03 00 03 01 00 00 00 10; } >"$d/raw-heartbeat-$v"
    { ts 21 "$sh"; b 00 10 04 00 40 00 10; } >"$d/overlong-16705-$v"
    { ts 21 "$sh"; b 00 10 04 be fe; } >"$d/overlong-65535-$v"
    { ts 21 "$sh"; b 00 10 05 03 17 03 03 00 05; filled 5 00; } >"$d/close-notify-then-garbage-$v"
done
# TLS 1.2 decrypts records of up to 2^14 + 320 bytes before refusing them: 16,641 and 16,704 fail as corrupted.
{ ts 21 1e; b 00 10 04 00 00 00 10; } >"$d/overlong-16641-12"
{ ts 21 1e; b 00 10 04 00 3f 00 10; } >"$d/overlong-16704-12"
# Renegotiation (TLS 1.2, refused) and KeyUpdate (TLS 1.3, accepted), with data around them.
{ ts 21 1e; b 00 10 07 02 00 10; } >"$d/renegotiation-12"
{ ts 81 1e; b 00 c7 07 03 03 17 03 03 00 05; filled 5 00; } >"$d/renegotiation-then-garbage-12"
{ ts 21 0e; b 00 10 07 02 00 10 07 01 05; } >"$d/key-update-13"
{ ts 21 0e; b 00 10 07 03 00 c3 07 03 00 10 07 01 05; } >"$d/key-update-requested-13"
# Every suite: TLS 1.3's four (shape bits 5-7), TLS 1.2's eight (CBC with and without encrypt-then-MAC among them).
for s in 0 1 2 3; do
    { ts 81 "$(printf %02x $((s << 5 | 0x0e)))"; b 00 40 01 40 00 07 01 00 10; } >"$d/suite-13-$s-corrupted"
done
for s in 0 1 2 3 4 5 6 7; do
    { ts 81 "$(printf %02x $((s << 5 | 0x1e)))"; b 00 40 01 40 00 07 01 00 10; } >"$d/suite-12-$s-corrupted"
    { ts 01 "$(printf %02x $((s << 5 | 0x1e)))"; b 00 c3 07 01 05; } >"$d/suite-12-$s-write-close-notify"
done

# Known bugs (README.md), which fail with every check on.
# truncated-eof-fatal: the end of the stream without close_notify: a decode_error alert instead of close_notify.
{ ts 01 0e; b 00 10; } >"$d/bug-truncated-eof-fatal"
# ... and with replies still queued (minimal server SO_SNDBUF): lost, and the close reported as peerReset.
{ ts 0b 0e; b 00 e7; for _ in $(seq 10); do b 00 63; done; } >"$d/bug-truncated-eof-fatal-replies-lost"
# write-retry-length: 40 KiB echoed to a full socket; SSL_write retried with a shorter run: "bad length".
{ ts 09 0e; b 00 e7 05; } >"$d/bug-write-retry-length"
# close-notify-dropped: found; the server's close_notify meets a full socket and is dropped.
b 0b 0e 00 00 00 00 00 00 00 2a 00 e7 00 73 65 63 70 32 32 34 72 31 00 63 00 63 00 63 00 63 00 63 \
    >"$d/bug-close-notify-dropped"
# key-update-spin: found; KeyUpdate(update_requested) then more records to a server whose socket is full: the loop
# spins in flushDirty (a libFuzzer timeout).
b 09 0e 00 00 00 00 00 01 00 00 00 00 00 04 00 63 ff ff ff ff ff ff ff ff ff ff 09 00 00 40 06 63 \
    >"$d/bug-key-update-spin"
