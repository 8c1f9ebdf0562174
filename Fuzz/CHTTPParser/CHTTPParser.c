#include "CHTTPParser.h"

#include <http_parser.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    hp_result *result;
    const unsigned char *base;
    int in_value;  // the last header callback was a value
} hp_context;

static hp_message *current(http_parser *parser) {
    hp_context *context = parser->data;
    if (context->result->message_count >= HP_MAX_MESSAGES) {
        context->result->overflow = 1;
        return NULL;
    }
    return &context->result->messages[context->result->message_count];
}

static void extend(hp_span *span, const hp_context *context, const char *at, size_t length) {
    size_t offset = (size_t)((const unsigned char *)at - context->base);
    if (span->length == 0) span->start = offset;
    span->length = offset + length - span->start;  // pieces of one element are contiguous in a whole stream
}

static int on_message_begin(http_parser *parser) {
    hp_message *message = current(parser);
    if (message) memset(message, 0, sizeof *message);
    ((hp_context *)parser->data)->in_value = 0;
    if (message) message->body_start = ((hp_context *)parser->data)->result->body_length;
    return 0;
}

static int on_url(http_parser *parser, const char *at, size_t length) {
    hp_message *message = current(parser);
    if (message) extend(&message->url, parser->data, at, length);
    return 0;
}

static int on_header_field(http_parser *parser, const char *at, size_t length) {
    hp_context *context = parser->data;
    hp_message *message = current(parser);
    if (!message) return 0;
    if (context->in_value || message->field_count == 0) {
        if (message->field_count >= HP_MAX_FIELDS) {
            context->result->overflow = 1;
            return 0;
        }
        message->field_count += 1;
        memset(&message->names[message->field_count - 1], 0, sizeof(hp_span));
        memset(&message->values[message->field_count - 1], 0, sizeof(hp_span));
        context->in_value = 0;
    }
    extend(&message->names[message->field_count - 1], context, at, length);
    return 0;
}

static int on_header_value(http_parser *parser, const char *at, size_t length) {
    hp_context *context = parser->data;
    hp_message *message = current(parser);
    if (!message || message->field_count == 0) return 0;
    context->in_value = 1;
    extend(&message->values[message->field_count - 1], context, at, length);
    return 0;
}

static int on_headers_complete(http_parser *parser) {
    ((hp_context *)parser->data)->in_value = 1;  // a trailer field starts a new field
    return 0;
}

static int on_body(http_parser *parser, const char *at, size_t length) {
    hp_context *context = parser->data;
    hp_result *result = context->result;
    if (result->body_length + length > result->body_capacity) {
        size_t capacity = (result->body_length + length) * 2 + 64;
        result->body = realloc(result->body, capacity);
        result->body_capacity = capacity;
    }
    memcpy(result->body + result->body_length, at, length);
    result->body_length += length;
    return 0;
}

static int on_message_complete(http_parser *parser) {
    hp_context *context = parser->data;
    hp_message *message = current(parser);
    if (!message) return 0;
    message->method = http_method_str(parser->method);
    message->major = parser->http_major;
    message->minor = parser->http_minor;
    message->keep_alive = http_should_keep_alive(parser);
    message->upgrade = parser->upgrade;
    message->body_length = context->result->body_length - message->body_start;
    context->result->message_count += 1;
    return 0;
}

void hp_parse(const unsigned char *data, size_t length, hp_result *result) {
    memset(result, 0, sizeof *result);
    http_parser_settings settings;
    memset(&settings, 0, sizeof settings);
    settings.on_message_begin = on_message_begin;
    settings.on_url = on_url;
    settings.on_header_field = on_header_field;
    settings.on_header_value = on_header_value;
    settings.on_headers_complete = on_headers_complete;
    settings.on_body = on_body;
    settings.on_message_complete = on_message_complete;
    http_parser parser;
    http_parser_init(&parser, HTTP_REQUEST);
    hp_context context = {result, data, 0};
    parser.data = &context;
    result->parsed = http_parser_execute(&parser, &settings, (const char *)data, length);
    result->error = (int)parser.http_errno;
    result->error_name = http_errno_name((enum http_errno)parser.http_errno);
}

void hp_free(hp_result *result) {
    free(result->body);
    result->body = NULL;
}
