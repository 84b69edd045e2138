/* SPDX-License-Identifier: MIT */
/*
 * GDB remote serial protocol framing: pure byte handling, no I/O (GDB
 * manual, "Remote Protocol", sections "Overview" and "Interrupts").
 * A packet is `$payload#cc` with cc the payload's byte sum modulo 256 in
 * two hex digits; '}' escapes the next byte XOR 0x20; a bare 0x03 is an
 * interrupt; '+' and '-' acknowledge.
 */
#ifndef MMS_DEBUG_RSP_H
#define MMS_DEBUG_RSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest payload we accept and advertise (qSupported PacketSize). */
#define RSP_PACKET_MAX 16384

enum rsp_event {
	RSP_NONE,	  /* byte consumed, nothing complete yet */
	RSP_PACKET,	  /* p->buf[0..p->len) holds a packet's (escaped) payload */
	RSP_BAD_CHECKSUM, /* a packet arrived damaged: answer '-' */
	RSP_OVERSIZE,	  /* a packet longer than RSP_PACKET_MAX was dropped */
	RSP_INTERRUPT,	  /* 0x03 outside a packet */
	RSP_ACK,
	RSP_NACK,
};

struct rsp_parser {
	int state;
	uint8_t sum, given;
	size_t len;
	bool overflow;
	char buf[RSP_PACKET_MAX + 1]; /* NUL-terminated after RSP_PACKET */
};

void rsp_parser_init(struct rsp_parser *p);
enum rsp_event rsp_feed(struct rsp_parser *p, uint8_t byte);

/* Undo '}' escaping in place (binary data of X and vFile packets); the
 * new length, or -EINVAL when the data ends inside an escape. */
long rsp_unescape(char *buf, size_t len);

/* `$payload#cc` into out, escaping the bytes the protocol reserves
 * ('$', '#', '}', '*'); its length, or -ENOSPC. */
long rsp_frame(char *out, size_t cap, const char *payload, size_t len);
/* Does rsp_frame send c as two bytes? */
static inline bool rsp_frame_escapes(uint8_t c)
{
	return c == '$' || c == '#' || c == '}' || c == '*';
}

/* Two lower-case hex digits per byte; returns 2 * n. */
size_t rsp_hex_encode(char *out, const void *in, size_t n);
/* n bytes from 2 * n hex digits; 0 or -EINVAL. */
int rsp_hex_decode(void *out, const char *in, size_t n);
/* A hex number at *s (at most 16 digits), *s moved past it; 0 or -EINVAL. */
int rsp_hex_u64(const char **s, uint64_t *v);

#endif
