//go:build go1.27

package e6data

import (
	"database/sql"
	"database/sql/driver"

	"github.com/e6go/e6data/internal/wire"
)

// From Go 1.27, database/sql asks a driver's rows for one row at a time
// (NextRow) and for each column straight into the application's Scan
// destination (ScanColumn), instead of a []driver.Value per row that it
// then converts through reflection. The rows implement it: a LONG, DOUBLE,
// INTEGER or string value scanned into a variable of its own type is
// stored directly, with no boxing and no reflection; every other case is
// the value Next would have delivered, given to sql.ConvertAssign, so
// what the application gets (values, conversions, errors) is the same.
// Older Go calls Next, as before.

var _ driver.RowsColumnScanner = (*rows)(nil)

// NextRow advances to the next row; ScanColumn then reads row r.pos-1.
func (r *rows) NextRow() error {
	if err := r.ready(); err != nil {
		return err
	}
	r.pos++
	r.delivered++
	return nil
}

// ScanColumn stores column i of the current row into dest.
func (r *rows) ScanColumn(sc driver.ScanContext, i int, dest any) error {
	row := r.pos - 1
	v := &r.chunk.Vectors[i]
	if !v.Constant && !(row < len(v.Nulls) && v.Nulls[row]) {
		switch d := dest.(type) {
		case *int64:
			if v.Type == wire.Long && row < len(v.Int64s) {
				*d = v.Int64s[row]
				return nil
			}
		case *float64:
			if v.Type == wire.Double && row < len(v.Float64s) {
				*d = v.Float64s[row]
				return nil
			}
		case *int32:
			if v.Type == wire.Integer && row < len(v.Int32s) {
				*d = v.Int32s[row]
				return nil
			}
		case *string:
			if v.Type == wire.String || v.Type == wire.Array || v.Type == wire.Map || v.Type == wire.Struct {
				if p := r.stringAt(i, row); p != nil {
					*d = *p
					return nil
				}
			}
		}
	}
	var val driver.Value
	if !r.fastValue(i, row, &val) { // strings come from here: copied in blocks
		x, err := valueAt(&r.cols[i], v, row)
		if err != nil {
			r.err = err
			return err
		}
		val = x
	}
	return sql.ConvertAssign(sc, dest, val)
}
