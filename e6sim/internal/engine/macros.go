//go:build cgo

package engine

import "strings"

// e6data SQL functions that DuckDB lacks or names differently, as DuckDB
// macros: created once in sample.main (connections in another schema have
// it on their search path), they let queries written for e6data run
// unchanged. Names, argument orders and meanings
// follow e6data's documented functions (and its public SQL dialect):
//
//	nvl(a, b)                       the first of a, b that is not NULL
//	timestamp_add(unit, n, t)       t plus n units (year, quarter, month, week, day, hour, minute, second, millisecond)
//	timestamp_diff(t1, t2, unit)    t1 - t2, in whole units
//	date_diff(d1, d2)               d1 - d2, in days
//	date_diff(d1, d2, unit)         d1 - d2, in units
//	date_diff(unit, d1, d2)         d2 - d1, in units (the unit first, as a string literal)
//	date_add(unit, n, d)            d plus n units; date_add(d, interval) as in DuckDB
//	format_date(d, fmt)             d as text; fmt in e6data's (Java-style) pattern: yyyy, MM, dd, HH, mm, ss, SSS, MMM, EEE, ...
//	format_timestamp(t, fmt)        the same for a timestamp
//	parse_date(fmt, s)              the DATE in s; fmt uses %Y %m %d %H %M %S ... (DuckDB's strptime codes)
//	parse_timestamp(fmt, s)         the same for a timestamp
//	to_unix_timestamp(t)            whole seconds since 1970-01-01 UTC
//	from_unixtime(x[, unit])        the TIMESTAMP x seconds (or 'milliseconds') after 1970-01-01 UTC
//	from_unixtime_withunit(x, unit) the same
//	datetime(t[, zone])             the wall-clock TIMESTAMP in zone (default UTC) of t, a UTC timestamp
//
// Creating a macro hides DuckDB's function of the same name (date_diff,
// date_add), so every form DuckDB's own had is defined again through its
// aliases (datediff, interval arithmetic).
var e6Macros = []string{
	`nvl(a, b) AS coalesce(a, b)`,
	// An interval of n units; a unit DuckDB spells differently is mapped.
	`e6_interval(u, n) AS CAST(CAST(n AS VARCHAR) || ' ' || CASE lower(CAST(u AS VARCHAR))
		WHEN 'quarter' THEN 'months' WHEN 'quarters' THEN 'months' ELSE CAST(u AS VARCHAR) END AS INTERVAL)
		* CASE WHEN lower(CAST(u AS VARCHAR)) IN ('quarter', 'quarters') THEN 3 ELSE 1 END`,
	`timestamp_add(u, n, t) AS t + e6_interval(u, n)`,
	`timestamp_diff(a, b, u) AS datediff(CAST(u AS VARCHAR), b, a)`,
	`date_diff(a, b) AS datediff('day', CAST(b AS DATE), CAST(a AS DATE)),
		(a, b, c) AS CASE WHEN typeof(a) = 'VARCHAR'
			THEN datediff(TRY_CAST(a AS VARCHAR), TRY_CAST(b AS TIMESTAMP), TRY_CAST(c AS TIMESTAMP))
			ELSE datediff(TRY_CAST(c AS VARCHAR), TRY_CAST(b AS TIMESTAMP), TRY_CAST(a AS TIMESTAMP)) END`,
	`date_add(d, i) AS d + i, (u, n, d) AS d + e6_interval(u, n)`,
	`e6_java_format(f) AS replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
		f, 'yyyy', '%Y'), 'yy', '%y'), 'MMMM', '%B'), 'MMM', '%b'), 'MM', '%m'), 'dd', '%d'), 'HH', '%H'), 'hh', '%I'),
		'mm', '%M'), 'ss', '%S'), 'SSS', '%g'), 'EEEE', '%A'), 'EEE', '%a')`,
	`format_date(d, f) AS strftime(d, e6_java_format(f))`,
	`format_timestamp(t, f) AS strftime(t, e6_java_format(f))`,
	`parse_date(f, s) AS CAST(strptime(s, f) AS DATE)`,
	`parse_timestamp(f, s) AS strptime(s, f)`,
	`to_unix_timestamp(t) AS CAST(floor(epoch(t)) AS BIGINT)`,
	`from_unixtime(x) AS make_timestamp(CAST(round(CAST(x AS DOUBLE) * 1000000) AS BIGINT)),
		(x, u) AS make_timestamp(CAST(round(CAST(x AS DOUBLE) * CASE WHEN lower(u) LIKE 'milli%' THEN 1000 ELSE 1000000 END) AS BIGINT))`,
	`from_unixtime_withunit(x, u) AS from_unixtime(x, u)`,
	`datetime(t) AS CAST(t AS TIMESTAMP), (t, z) AS timezone(z, timezone('UTC', CAST(t AS TIMESTAMP)))`,
}

// macroSQL is the statement that creates every macro in sample.main.
var macroSQL = func() string {
	var b strings.Builder
	for _, m := range e6Macros {
		b.WriteString("CREATE OR REPLACE MACRO " + quoteIdent(DefaultCatalog) + "." + quoteIdent(DefaultSchema) + ".")
		b.WriteString(m)
		b.WriteString(";\n")
	}
	return b.String()
}()
