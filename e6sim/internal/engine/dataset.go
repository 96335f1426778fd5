//go:build cgo

package engine

// sampleDataset builds catalog "sample", schema "main". DATASET.md documents
// every value; TestSampleDatasetDocumented keeps the two in step. Keep the
// build cheap: simulators are started by the dozen in tests.
var sampleDataset = []string{
	`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`,

	`CREATE TABLE all_types (
		id              INTEGER NOT NULL,
		c_boolean       BOOLEAN,
		c_tinyint       TINYINT,
		c_smallint      SMALLINT,
		c_integer       INTEGER,
		c_bigint        BIGINT,
		c_hugeint       HUGEINT,
		c_utinyint      UTINYINT,
		c_usmallint     USMALLINT,
		c_uinteger      UINTEGER,
		c_ubigint       UBIGINT,
		c_decimal_4_1   DECIMAL(4,1),
		c_decimal_9_2   DECIMAL(9,2),
		c_decimal_18_3  DECIMAL(18,3),
		c_decimal_38_10 DECIMAL(38,10),
		c_decimal_38_0  DECIMAL(38,0),
		c_float         FLOAT,
		c_double        DOUBLE,
		c_varchar       VARCHAR,
		c_uuid          UUID,
		c_enum          mood,
		c_interval      INTERVAL,
		c_time          TIME,
		c_blob          BLOB,
		c_date          DATE,
		c_timestamp     TIMESTAMP,
		c_timestamp_s   TIMESTAMP_S,
		c_timestamp_ms  TIMESTAMP_MS,
		c_timestamp_ns  TIMESTAMP_NS,
		c_timestamptz   TIMESTAMPTZ,
		c_list          INTEGER[],
		c_array         INTEGER[3],
		c_map           MAP(VARCHAR, INTEGER),
		c_struct        STRUCT(a INTEGER, b VARCHAR)
	)`,

	// Row 1: ordinary values. Row 2: minimums, negatives, dates before 1970,
	// unicode. Row 3: maximums, empty string, non-UTF-8 bytes. Row 4: NULL in
	// every column but id.
	`INSERT INTO all_types VALUES
	(1, true, 1, 2, 3, 4, 5, 6, 7, 8, 9,
	 12.5, 1234.56, 123456789012345.678,
	 1234567890123456789012345678.1234567890,
	 12345678901234567890123456789012345678,
	 1.5, 3.141592653589793,
	 'hello, world', '123e4567-e89b-12d3-a456-426614174000', 'happy',
	 INTERVAL '1 year 2 months 3 days 04:05:06.789', TIME '12:34:56.789012',
	 '\xDE\xAD\xBE\xEF'::BLOB,
	 DATE '2024-02-29', TIMESTAMP '2024-02-29 13:14:15.123456',
	 TIMESTAMP_S '2024-02-29 13:14:15', TIMESTAMP_MS '2024-02-29 13:14:15.123',
	 TIMESTAMP_NS '2024-02-29 13:14:15.123456789', TIMESTAMPTZ '2024-02-29 13:14:15.123456+00',
	 [1, 2, NULL], [1, 2, 3], MAP {'a': 1, 'b': NULL}, {'a': 1, 'b': 'x'}),
	(2, false, -128, -32768, -2147483648, -9223372036854775808,
	 -170141183460469231731687303715884105728, 0, 0, 0, 0,
	 -999.9, -9999999.99, -999999999999999.999,
	 -9999999999999999999999999999.9999999999,
	 -99999999999999999999999999999999999999,
	 -0.25, -2.5e-300,
	 'naïve café 日本語 🎉 ''single'' "double" back\slash tab	end', '00000000-0000-0000-0000-000000000000', 'sad',
	 INTERVAL '-1 day -00:00:01', TIME '00:00:00',
	 ''::BLOB,
	 DATE '1969-07-20', TIMESTAMP '1969-07-20 20:17:40.123456',
	 TIMESTAMP_S '1900-01-01 00:00:00', TIMESTAMP_MS '1969-12-31 23:59:59.999',
	 TIMESTAMP_NS '1969-12-31 23:59:59.999999999', TIMESTAMPTZ '1969-07-20 20:17:40.5+00',
	 [], [-1, 0, NULL], MAP {}, {'a': NULL, 'b': 'it''s'}),
	(3, true, 127, 32767, 2147483647, 9223372036854775807,
	 170141183460469231731687303715884105727, 255, 65535, 4294967295, 18446744073709551615,
	 999.9, 9999999.99, 999999999999999.999,
	 9999999999999999999999999999.9999999999,
	 99999999999999999999999999999999999999,
	 3.4028235e38, 1.7976931348623157e308,
	 '', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'ok',
	 INTERVAL '0 seconds', TIME '23:59:59.999999',
	 '\x00\x80\xFF'::BLOB,
	 DATE '9999-12-31', TIMESTAMP '9999-12-31 23:59:59.999999',
	 TIMESTAMP_S '2038-01-19 03:14:08', TIMESTAMP_MS '2100-01-01 00:00:00.001',
	 TIMESTAMP_NS '2262-04-11 23:47:16.854775', TIMESTAMPTZ '9999-12-31 23:59:59.999999+00',
	 [NULL], [7, 8, 9], MAP {'k': 2147483647}, {'a': 2147483647, 'b': NULL}),
	(4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,

	// numbers: exactly 1,000,000 rows computed on the fly (a view costs no
	// memory and no build time).
	`CREATE VIEW numbers AS
	 SELECT range AS id, CAST(range AS DOUBLE) * 0.5 AS x, 'row-' || range AS s, CAST(range % 10 AS INTEGER) AS g
	 FROM range(1000000)`,

	`CREATE TABLE customers (
		id      INTEGER NOT NULL PRIMARY KEY,
		name    VARCHAR NOT NULL,
		country VARCHAR,
		signup  DATE,
		vip     BOOLEAN
	)`,
	`INSERT INTO customers VALUES
	(1, 'Ada Lovelace', 'GB', DATE '2020-01-15', true),
	(2, 'Grace Hopper', 'US', DATE '2020-03-09', false),
	(3, 'Alan Turing', 'GB', DATE '2020-06-23', true),
	(4, 'Katherine Johnson', 'US', DATE '2021-08-26', false),
	(5, 'Edsger Dijkstra', 'NL', DATE '2021-05-11', false),
	(6, 'Barbara Liskov', 'US', DATE '2022-11-07', true),
	(7, 'Donald Knuth', 'US', DATE '2022-01-10', false),
	(8, 'Margaret Hamilton', NULL, DATE '2023-08-17', NULL),
	(9, 'Tim Berners-Lee', 'GB', NULL, false),
	(10, 'Ken Thompson', 'US', DATE '2023-02-04', false)`,

	`CREATE TABLE orders (
		id          INTEGER NOT NULL PRIMARY KEY,
		customer_id INTEGER,
		amount      DECIMAL(10,2),
		ordered_at  TIMESTAMP,
		status      VARCHAR
	)`,
	// 50 orders; order 50 has no customer and order 49 no amount.
	`INSERT INTO orders
	 SELECT i,
	        CASE WHEN i = 50 THEN NULL ELSE (i * 7) % 10 + 1 END,
	        CASE WHEN i = 49 THEN NULL ELSE CAST((i * 37) % 500 AS DECIMAL(10,2)) + 0.99 END,
	        TIMESTAMP '2023-01-01 00:00:00' + INTERVAL (i * 13) HOUR,
	        ['new', 'paid', 'shipped', 'cancelled'][i % 4 + 1]
	 FROM range(1, 51) t(i)`,
}
