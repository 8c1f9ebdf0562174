#!/usr/bin/env bash
# Writes the handcrafted seed inputs in DecoderFuzzer/ and ReadPathFuzzer/ (committed; rerun after changing an input
# layout). The layouts are documented in DecoderCheck.swift and ReadPathCheck.swift.
set -euo pipefail
cd "$(dirname "$0")"

# u32 N: a 4-byte big-endian length prefix.
u32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
# frame TEXT: one frame carrying TEXT.
frame() { u32 ${#1}; printf '%s' "$1"; }
# frames COUNT LENGTH: COUNT frames of LENGTH bytes of 'a'.
frames() { for _ in $(seq "$1"); do u32 "$2"; filled "$2" 61; done; }
# filled N BYTE: N copies of BYTE (two hex digits).
filled() { head -c "$1" /dev/zero | tr '\0' "\\$(printf %03o $((16#$2)))"; }
seed() { printf '\x00\x00\x00\x00\x00\x00\x00\x2a'; }

# DecoderFuzzer: mode (bits 0-1 limit range, bits 2-3 direct-read chance), limit (2 bytes), piece shift, threshold/8,
# stop (0 or frame index + 1), seed (8 bytes), stream.
d=DecoderFuzzer
rm -rf "$d" && mkdir "$d"
dec() { printf "\\x$1\\x$2\\x$3\\x$4\\x$5\\x$6"; seed; }
{ dec 01 00 64 0c 00 00; u32 0; } >"$d/empty-frame"
{ dec 01 00 40 02 00 00; frame hello; u32 0; frame 'world!'; } >"$d/several-frames"
{ dec 01 00 40 00 00 00; frame abc; frame defgh; } >"$d/split-header-one-byte-pieces"
{ dec 00 00 08 0c 00 00; frame abc; u32 9; printf 123456789; } >"$d/oversized-prefix"
{ dec 01 10 00 0c 00 00; frame ok; printf '\xff\xff\xff\xff'; } >"$d/4gib-prefix"
{ dec 00 00 00 0c 00 00; u32 0; u32 0; u32 1; printf x; } >"$d/limit-zero"
{ dec 0e 0b b8 09 01 00; u32 2500; filled 2500 61; frame tail; } >"$d/direct-read-large-frame"
{ dec 0f 86 a0 0a 00 00; u32 100000; filled 700 62; } >"$d/large-class-pending"
{ dec 01 00 40 03 00 02; frame one; frame two; frame three; frame four; } >"$d/stop-after-second-frame"
{ dec 01 00 40 02 00 00; frame one; printf '\x00\x00'; } >"$d/truncated-header"
{ dec 01 01 00 05 00 00; u32 200; filled 150 63; } >"$d/truncated-body"

# ReadPathFuzzer: limits (bits 0-2 maxFrameLength index of [0, 1, 16, 255, 1000, 2048, 4096, 10000], bits 3-4
# style), socket buffers (bits 0-1 reactor end, 2-3 peer end: default, minimum, 8 KiB, 64 KiB), close after frame
# (0: never), piece shift, replies (bits 0-2 drain chance n/8, bits 3-4 replies per frame 1/2/4/8), seed, stream.
r=ReadPathFuzzer
rm -rf "$r" && mkdir "$r"
rp() { printf "\\x$1\\x$2\\x$3\\x$4\\x$5"; seed; }
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
