/*
 * diag: "file:line: message" errors delivered through a callback.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"

void
diag_at(struct diag *d, const char *file, unsigned long line,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vat(d, file, line, fmt, ap);
	va_end(ap);
}

void
diag_vat(struct diag *d, const char *file, unsigned long line,
    const char *fmt, va_list ap)
{
	char msg[DIAG_MSG_MAX], body[DIAG_MSG_MAX];

	d->count++;
	if (d->fn == NULL)
		return;
	vsnprintf(body, sizeof(body), fmt, ap);
	if (line > 0)
		snprintf(msg, sizeof(msg), "%s:%lu: %s", file, line, body);
	else
		snprintf(msg, sizeof(msg), "%s: %s", file, body);
	d->fn(d->ctx, msg);
}

const char *
diag_safe(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t i, o = 0;
	unsigned char c;

	if (buflen < 8) {
		if (buflen > 0)
			buf[0] = '\0';
		return buf;
	}
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		/* Keep room for "\xNN", "..." and the NUL. */
		if (o + 8 > buflen) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, buflen - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}
