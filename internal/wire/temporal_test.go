package wire_test

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/e6go/e6data/internal/wire"
)

func TestTimeFromMicros(t *testing.T) {
	const layout = "2006-01-02T15:04:05.000000Z07:00"
	cases := []struct {
		us   int64
		want string
	}{
		{0, "1970-01-01T00:00:00.000000Z"},
		{-1, "1969-12-31T23:59:59.999999Z"},
		{-1_000_001, "1969-12-31T23:59:58.999999Z"},
		{-86_400_000_000, "1969-12-31T00:00:00.000000Z"},
		{1_709_210_096_789_012, "2024-02-29T12:34:56.789012Z"},
		{-62_135_596_800_000_000, "0001-01-01T00:00:00.000000Z"},
		{math.MaxInt64, "294247-01-10T04:00:54.775807Z"},
		{math.MinInt64, "-290308-12-21T19:59:05.224192Z"},
	}
	for _, c := range cases {
		got := wire.TimeFromMicros(c.us, nil)
		if s := got.Format(layout); s != c.want {
			t.Errorf("TimeFromMicros(%d) = %s, want %s", c.us, s, c.want)
		}
		if got.Location() != time.UTC {
			t.Errorf("nil location gave %v", got.Location())
		}
		if !got.Equal(time.UnixMicro(c.us)) {
			t.Errorf("TimeFromMicros(%d) disagrees with time.UnixMicro", c.us)
		}
		if back := wire.MicrosFromTime(got); back != c.us {
			t.Errorf("MicrosFromTime(TimeFromMicros(%d)) = %d", c.us, back)
		}
	}
	loc := time.FixedZone("x", -8*3600)
	if s := wire.TimeFromMicros(-1, loc).Format(layout); s != "1969-12-31T15:59:59.999999-08:00" {
		t.Errorf("in -08:00: %s", s)
	}
}

func TestLocation(t *testing.T) {
	at := time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		zone   string
		offset int // seconds east at 2024-07-01
		name   string
		err    string
	}{
		{"", 0, "UTC", ""},
		{"Z", 0, "UTC", ""},
		{"UTC", 0, "UTC", ""},
		{"utc", 0, "UTC", ""},
		{"+05:30", 19800, "+05:30", ""},
		{"-08:00", -28800, "-08:00", ""},
		{"+0530", 19800, "+0530", ""},
		{"+05", 18000, "+05", ""},
		{"-5", -18000, "-5", ""},
		{"+05:30:15", 19815, "+05:30:15", ""},
		{"+18:00", 64800, "+18:00", ""},
		{"UTC+05:30", 19800, "UTC+05:30", ""},
		{"GMT-8", -28800, "GMT-8", ""},
		{"America/New_York", -4 * 3600, "America/New_York", ""},
		{"Asia/Kolkata", 19800, "Asia/Kolkata", ""},
		{"+18:01", 0, "", "bad zone offset"},
		{"+05:60", 0, "", "bad zone offset"},
		{"+5:30", 0, "", "bad zone offset"},
		{"+", 0, "", "bad zone offset"},
		{"UTC+x", 0, "", "bad zone offset"},
		{"Local", 0, "", "not accepted"},
		{"Nowhere/Atlantis", 0, "", "unknown time zone"},
		{"../../etc/passwd", 0, "", "unknown time zone"},
		{strings.Repeat("A", 200), 0, "", "longer than 128"},
	}
	for _, c := range cases {
		for range 2 { // the second call is served by the cache
			loc, err := wire.Location(c.zone)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("Location(%q) error = %v, want %q", c.zone, err, c.err)
				}
				continue
			}
			if err != nil {
				t.Errorf("Location(%q): %v", c.zone, err)
				continue
			}
			name, off := at.In(loc).Zone()
			if off != c.offset || loc.String() != c.name {
				t.Errorf("Location(%q) = %s (%s, %d s), want %s, %d s", c.zone, loc, name, off, c.name, c.offset)
			}
		}
	}
}

// TestLocationConcurrentBounded hammers the cache from many goroutines with
// more distinct names than it holds; run with -race.
func TestLocationConcurrentBounded(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				zone := fmt.Sprintf("+%02d:%02d", (g+i)%18, i%60)
				loc, err := wire.Location(zone)
				if err != nil || loc.String() != zone {
					t.Errorf("Location(%q) = %v, %v", zone, loc, err)
					return
				}
				if _, err := wire.Location(fmt.Sprintf("Bad/Zone%d", g*1000+i)); err == nil {
					t.Error("bad zone accepted")
					return
				}
				if loc, _ := wire.Location("Asia/Kolkata"); loc == nil {
					t.Error("IANA zone lost")
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := wire.ZoneCacheLen(); n > 512 {
		t.Fatalf("zone cache holds %d entries, more than its bound of 512", n)
	}
}
