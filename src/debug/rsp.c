/* SPDX-License-Identifier: MIT */
/*
 * GDB remote serial protocol framing (see rsp.h).  Everything here is
 * pure and bounded: the packet buffer is the parser's own, and a packet
 * that does not fit is dropped whole, never truncated into another one.
 */
#include <errno.h>
#include <string.h>

#include "debug/rsp.h"

enum { S_IDLE, S_DATA, S_ESC, S_SUM1, S_SUM2 };

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void rsp_parser_init(struct rsp_parser *p)
{
	p->state = S_IDLE;
	p->len = 0;
	p->sum = 0;
	p->overflow = false;
}

static void put(struct rsp_parser *p, uint8_t c)
{
	if (p->len < RSP_PACKET_MAX)
		p->buf[p->len++] = (char)c;
	else
		p->overflow = true;
}

enum rsp_event rsp_feed(struct rsp_parser *p, uint8_t c)
{
	int v;

	switch (p->state) {
	case S_IDLE:
		if (c == '$') {
			rsp_parser_init(p);
			p->state = S_DATA;
		}
		return c == 0x03  ? RSP_INTERRUPT
		       : c == '+' ? RSP_ACK
		       : c == '-' ? RSP_NACK
				  : RSP_NONE;
	case S_DATA:
	case S_ESC:
		if (c == '#' && p->state == S_DATA) {
			p->state = S_SUM1;
			return RSP_NONE;
		}
		if (c == '$') { /* a new packet began: the old one was cut */
			rsp_parser_init(p);
			p->state = S_DATA;
			return RSP_BAD_CHECKSUM;
		}
		p->sum += c;
		/* escapes are kept (undone by rsp_unescape where binary data
		 * is expected) but a '#' after '}' is data, not the end */
		p->state = p->state == S_DATA && c == '}' ? S_ESC : S_DATA;
		put(p, c);
		return RSP_NONE;
	case S_SUM1:
		v = hexval(c);
		p->given = (uint8_t)((v < 0 ? 0 : v) << 4);
		p->state = v < 0 ? S_IDLE : S_SUM2;
		return v < 0 ? RSP_BAD_CHECKSUM : RSP_NONE;
	default:
		v = hexval(c);
		p->state = S_IDLE;
		if (v < 0 || (uint8_t)(p->given | v) != p->sum)
			return RSP_BAD_CHECKSUM;
		if (p->overflow)
			return RSP_OVERSIZE;
		p->buf[p->len] = 0;
		return RSP_PACKET;
	}
}

long rsp_unescape(char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '}') {
			if (++i == len)
				return -EINVAL;
			buf[o++] = (char)(buf[i] ^ 0x20);
		} else {
			buf[o++] = buf[i];
		}
	}
	return (long)o;
}

long rsp_frame(char *out, size_t cap, const char *payload, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t sum = 0;
	size_t o = 0;

	if (cap < 4)
		return -ENOSPC;
	out[o++] = '$';
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)payload[i];
		bool esc = rsp_frame_escapes(c);
		if (o + (esc ? 2 : 1) + 3 > cap)
			return -ENOSPC;
		if (esc) {
			out[o++] = '}';
			sum += '}';
			c ^= 0x20;
		}
		out[o++] = (char)c;
		sum += c;
	}
	out[o++] = '#';
	out[o++] = hex[sum >> 4];
	out[o++] = hex[sum & 15];
	return (long)o;
}

size_t rsp_hex_encode(char *out, const void *in, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *b = in;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	return 2 * n;
}

int rsp_hex_decode(void *out, const char *in, size_t n)
{
	uint8_t *b = out;

	for (size_t i = 0; i < n; i++) {
		int hi = hexval((unsigned char)in[2 * i]), lo;
		if (hi < 0)
			return -EINVAL;
		lo = hexval((unsigned char)in[2 * i + 1]);
		if (lo < 0)
			return -EINVAL;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int rsp_hex_u64(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	int n = 0, d;

	while ((d = hexval((unsigned char)*p)) >= 0) {
		if (++n > 16)
			return -EINVAL;
		x = x << 4 | (uint64_t)d;
		p++;
	}
	if (!n)
		return -EINVAL;
	*v = x;
	*s = p;
	return 0;
}
