/*
 * textfile: bounded whole-file reads and per-line hygiene checks.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "textfile.h"

static int
read_all(int fd, char *buf, size_t want, size_t *got)
{
	ssize_t n;

	*got = 0;
	while (*got < want) {
		n = read(fd, buf + *got, want - *got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

int
textfile_read(const char *path, char **bufp, size_t *lenp, char *err,
    size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got;
	int fd;

	*bufp = NULL;
	*lenp = 0;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
		snprintf(err, errlen, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "is not a regular file");
		goto fail;
	}
	if ((uintmax_t)st.st_size > TEXTFILE_SIZE_MAX) {
		snprintf(err, errlen, "is larger than %u MiB",
		    TEXTFILE_SIZE_MAX >> 20);
		goto fail;
	}
	/* One spare byte tells us if the file grew past what stat said. */
	if ((buf = malloc((size_t)st.st_size + 2)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (read_all(fd, buf, (size_t)st.st_size + 1, &got) != 0) {
		snprintf(err, errlen, "cannot read: %s", strerror(errno));
		goto fail;
	}
	if (got > (size_t)st.st_size) {
		snprintf(err, errlen, "changed while being read");
		goto fail;
	}
	buf[got] = '\0';
	close(fd);
	*bufp = buf;
	*lenp = got;
	return 0;
 fail:
	free(buf);
	close(fd);
	return -1;
}

int
textfile_next(const char *buf, size_t len, size_t *off, const char **line,
    size_t *linelen)
{
	const char *nl;
	size_t n;

	if (*off >= len)
		return 0;
	*line = buf + *off;
	nl = memchr(*line, '\n', len - *off);
	n = nl != NULL ? (size_t)(nl - *line) : len - *off;
	*off += n + (nl != NULL ? 1 : 0);
	if (n > 0 && (*line)[n - 1] == '\r')
		n--;
	*linelen = n;
	return 1;
}

/* Length of the UTF-8 sequence at s, or 0 if it is not valid. */
static size_t
utf8_seq(const unsigned char *s, size_t left)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/*
	 * Overlong forms, surrogates, values past U+10FFFF, and the C1
	 * controls (U+0080..U+009F): control characters in any encoding.
	 */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

const char *
textfile_check_line(const char *line, size_t len, char *err, size_t errlen)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t i, n;

	if (len > TEXTFILE_LINE_MAX) {
		snprintf(err, errlen, "line is longer than %u bytes",
		    TEXTFILE_LINE_MAX);
		return err;
	}
	for (i = 0; i < len; i += n) {
		if (s[i] == '\0') {
			snprintf(err, errlen, "NUL byte at column %zu", i + 1);
			return err;
		}
		if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f) {
			snprintf(err, errlen, "control character 0x%02x at "
			    "column %zu", s[i], i + 1);
			return err;
		}
		if ((n = utf8_seq(s + i, len - i)) == 0) {
			snprintf(err, errlen, "invalid UTF-8 at column %zu",
			    i + 1);
			return err;
		}
	}
	return NULL;
}

int
textfile_split(char *buf, char **av, int max, int comments)
{
	int ac = 0;
	char *s = buf;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || (comments && *s == '#'))
			return ac;
		if (ac == max)
			return -1;
		av[ac++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
}

int
textfile_words(const char *line, size_t len, char *buf, char **av, int max,
    int comments, char *err, size_t errlen)
{
	int ac;

	if (textfile_check_line(line, len, err, errlen) != NULL)
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if ((ac = textfile_split(buf, av, max, comments)) < 0)
		return -2;
	return ac;
}
