/* record.h - a finished probe as one list of named fields.
 *
 * Every format that writes a probe renders it from this one list, built in
 * one place (record_probe), so JSON and CSV cannot drift: JSON nests the
 * fields whose key has a dot ("icmp.type" -> "icmp":{"type":...}, the group
 * null when all of it is), CSV flattens them ("icmp_type"), text prints the
 * kind's own fields as key=value. A kind adds its fields with its fields()
 * hook (kind.h): they appear in every format without touching one. */
#ifndef TCPSHAKE_RECORD_H
#define TCPSHAKE_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "middlebox.h"

struct probe_report;
struct probe_result;

enum fv_type { FV_NULL = 0, FV_STR, FV_UINT, FV_INT, FV_FIXED3, FV_BOOL, FV_TIME, FV_SEGMENTS };

struct field {
	const char *key;
	enum fv_type t;
	union {
		const char *s;
		uint64_t u;
		int64_t i;
		double d;      /* FV_FIXED3: printed with three decimals */
		bool b;
		int64_t ns;    /* FV_TIME: seconds.microseconds */
	} v;
	bool detail;    /* a kind's field left out of the text line (JSON and CSV have it) */
};

#define RECORD_MAX 80

struct record {
	struct field f[RECORD_MAX];
	int n;
	int nbase;                       /* fields before the kind's own */
	const struct probe_result *res;  /* FV_SEGMENTS reads its log */
	char flags[9], addr[64], icmp_name[32], icmp_from[64];
	char kind_addr[64];               /* an address a kind's field names */
	char mb_why[MB_WHY_MAX];         /* middlebox.evidence */
};

/* Adders, for record_probe and the kinds' fields() hooks. */
void record_null(struct record *rec, const char *key);
void record_str(struct record *rec, const char *key, const char *s);
void record_uint(struct record *rec, const char *key, uint64_t u);
void record_fixed3(struct record *rec, const char *key, double d);
void record_bool(struct record *rec, const char *key, bool b);
void record_int(struct record *rec, const char *key, int64_t i);
/* The same, or null when the value is not known (have false). */
void record_uint_or_null(struct record *rec, const char *key, bool have, uint64_t u);
void record_int_or_null(struct record *rec, const char *key, bool have, int64_t i);
void record_fixed3_or_null(struct record *rec, const char *key, bool have, double d);
void record_bool_or_null(struct record *rec, const char *key, bool have, bool b);
/* The field just added is a detail: JSON and CSV only, not the text line. */
void record_detail(struct record *rec);

/* The probe's fields, in the order of the JSON keys and CSV columns. */
void record_probe(const struct probe_report *r, struct record *rec);

/* Writers: a JSON object's members (after its first), a CSV row and its
 * header, the kind's fields as text. */
void record_json(FILE *f, const struct record *rec);
void record_csv_header(FILE *f, const struct record *rec);
void record_csv_row(FILE *f, const struct record *rec);
void record_text_extra(FILE *f, const struct record *rec);

/* Keep the numbers of the kind's own fields in the target:port's summary. */
struct flow_summary;
void record_keep_extra(const struct record *rec, struct flow_summary *s);

/* Shared with the formats' own writers. */
void json_str(FILE *f, const char *s);
void csv_str(FILE *f, const char *s);

#endif
