/*
 * textfile: reading small configuration files safely, line by line.
 *
 * Policy and keys files are read whole (they are small) after checking that
 * the path names a regular file under a size cap, so a typo pointing at a
 * device or FIFO cannot hang the loader.  Every line is checked before any
 * parser sees it: no NUL bytes, no control characters but TAB, valid UTF-8,
 * and a bounded length.
 */
#ifndef RAMPART_TEXTFILE_H
#define RAMPART_TEXTFILE_H

#include <stddef.h>

#define TEXTFILE_LINE_MAX	4096		/* bytes, without the newline */
#define TEXTFILE_SIZE_MAX	(16u << 20)	/* 16 MiB per file */

/*
 * Read path into a malloc'ed, NUL-terminated buffer.  Returns 0, or -1 with
 * a reason in err ("cannot open: No such file or directory", "is not a
 * regular file", "is larger than 16 MiB").
 */
int	textfile_read(const char *path, char **buf, size_t *len, char *err,
	    size_t errlen);

/*
 * Step through buf: on each call sets *line and *linelen to the next line
 * (without "\n" or a trailing "\r") and returns 1; returns 0 at the end.
 */
int	textfile_next(const char *buf, size_t len, size_t *off,
	    const char **line, size_t *linelen);

/*
 * What is wrong with a line, or NULL if nothing: overlong, NUL byte,
 * control character, invalid UTF-8.  Writes the message into err.
 */
const char *textfile_check_line(const char *line, size_t len, char *err,
	    size_t errlen);

/*
 * Split a line in place into words separated by spaces and tabs.  With
 * comments, a word starting with '#' ends the line.  Returns the number
 * of words, or -1 if there are more than max.
 */
int	textfile_split(char *buf, char **av, int max, int comments);

/*
 * The two steps every line-based parser takes: check the line
 * (textfile_check_line), then copy it into buf (TEXTFILE_LINE_MAX + 1
 * bytes) and split it (textfile_split).  Returns the word count; -1 with
 * the reason in err for a bad line, -2 for more than max words.
 */
int	textfile_words(const char *line, size_t len, char *buf, char **av,
	    int max, int comments, char *err, size_t errlen);

#endif /* RAMPART_TEXTFILE_H */
