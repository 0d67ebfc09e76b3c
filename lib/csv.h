/* csv.h — one CSV field as RFC 4180 writes it, made safe for spreadsheets: every export (audit
 * trail, ledger transfers) goes through here so none forgets the quoting or the formula guard. */
#ifndef BCF_CSV_H
#define BCF_CSV_H
#include "buf.h"

/* Appends s as one field followed by "," or, when last, by CRLF. Quoted when it holds a comma,
 * quote, CR or LF (quotes doubled); a leading = + - @ tab or CR gets an apostrophe in front so a
 * spreadsheet does not run it as a formula. */
void csv_field(buf *b, const char *s, int last);
#endif
