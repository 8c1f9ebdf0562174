// The reference for HTTP1DifferentialFuzzer: nodejs/http-parser (Debian's libhttp-parser-dev), run over a whole
// request stream, its messages recorded as offsets into the stream and de-chunked bodies.
#ifndef CHTTPPARSER_H
#define CHTTPPARSER_H

#include <stddef.h>
#include <stdint.h>

#define HP_MAX_MESSAGES 64
#define HP_MAX_FIELDS 128

typedef struct {
    size_t start, length;
} hp_span;

typedef struct {
    const char *method;  // http_method_str
    hp_span url;
    unsigned short major, minor;
    int keep_alive;  // http_should_keep_alive at on_message_complete
    int upgrade;
    size_t field_count;  // header fields then trailer fields, in order
    hp_span names[HP_MAX_FIELDS];
    hp_span values[HP_MAX_FIELDS];
    size_t body_start;  // offset in hp_result.body
    size_t body_length;
} hp_message;

typedef struct {
    size_t message_count;
    hp_message messages[HP_MAX_MESSAGES];
    unsigned char *body;  // every message's body bytes, concatenated (malloc'd; hp_free)
    size_t body_length, body_capacity;
    int error;  // enum http_errno (0: none)
    const char *error_name;
    size_t parsed;  // bytes http_parser_execute consumed
    int overflow;  // more messages or fields than the arrays hold: the input is not compared
} hp_result;

/// Parses `length` bytes at `data` as HTTP requests (strict mode, as the library was built).
void hp_parse(const unsigned char *data, size_t length, hp_result *result);
void hp_free(hp_result *result);

#endif
