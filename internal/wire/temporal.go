package wire

import (
	"errors"
	"strings"
	"sync"
	"time"
)

// TimeFromMicros converts microseconds since the Unix epoch to a time in
// loc (UTC when loc is nil). It is exact for every int64, negative epochs
// included: the second is the floor of us/1e6 and the remainder is kept to
// the microsecond.
func TimeFromMicros(us int64, loc *time.Location) time.Time {
	sec, rem := us/1_000_000, us%1_000_000
	if rem < 0 {
		sec--
		rem += 1_000_000
	}
	if loc == nil {
		loc = time.UTC
	}
	return time.Unix(sec, rem*1000).In(loc)
}

// DateFromMicros converts a DATE value, microseconds since the Unix epoch,
// to its UTC day at midnight. A value that is not a UTC midnight is
// truncated to the start of its day (toward the past, before 1970 too).
func DateFromMicros(us int64) time.Time {
	t := TimeFromMicros(us, time.UTC)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// MicrosFromTime is the inverse of TimeFromMicros: microseconds since the
// Unix epoch, truncating any sub-microsecond part toward the past.
func MicrosFromTime(t time.Time) int64 {
	sec, nsec := t.Unix(), int64(t.Nanosecond())
	return sec*1_000_000 + nsec/1000
}

// Location resolves a zone as the engine sends it (Vector.Zones, a field's
// Zone in the metadata):
//
//	"", "Z", "UTC" (any case)          time.UTC
//	"+HH:MM", "-HH:MM", "+HHMM", "+HH",
//	"+HH:MM:SS", "+HHMMSS"             a fixed zone named as given (at most ±18:00, as in Java)
//	"UTC+05:30", "GMT-8", "UT+01"      a fixed zone named as given
//	anything else                      an IANA name, via time.LoadLocation
//
// "Local" is refused: the engine's zone is never the client's local zone.
// Results, errors included, are cached (safe for concurrent use, at most
// 512 entries). IANA names need the system's zoneinfo, or the program must
// import time/tzdata.
func Location(zone string) (*time.Location, error) {
	switch zone {
	case "", "Z", "z", "UTC", "utc":
		return time.UTC, nil
	}
	zoneCache.mu.RLock()
	e, ok := zoneCache.m[zone]
	zoneCache.mu.RUnlock()
	if ok {
		return e.loc, e.err
	}
	loc, err := loadZone(zone)
	zoneCache.mu.Lock()
	if zoneCache.m == nil {
		zoneCache.m = make(map[string]zoneEntry)
	}
	if len(zoneCache.m) >= maxZoneCache {
		for k := range zoneCache.m { // evict one arbitrary entry
			delete(zoneCache.m, k)
			break
		}
	}
	zoneCache.m[zone] = zoneEntry{loc, err}
	zoneCache.mu.Unlock()
	return loc, err
}

const maxZoneCache = 512

type zoneEntry struct {
	loc *time.Location
	err error
}

var zoneCache struct {
	mu sync.RWMutex
	m  map[string]zoneEntry
}

func loadZone(zone string) (*time.Location, error) {
	if len(zone) > 128 {
		return nil, errors.New("wire: time zone name longer than 128 bytes")
	}
	if strings.EqualFold(zone, "utc") {
		return time.UTC, nil
	}
	if zone[0] == '+' || zone[0] == '-' {
		off, ok := parseOffset(zone)
		if !ok {
			return nil, errors.New("wire: bad zone offset " + quoteShort(zone))
		}
		return time.FixedZone(zone, off), nil
	}
	for _, p := range [...]string{"UTC", "GMT", "UT"} {
		if len(zone) > len(p) && strings.EqualFold(zone[:len(p)], p) && (zone[len(p)] == '+' || zone[len(p)] == '-') {
			off, ok := parseOffset(zone[len(p):])
			if !ok {
				return nil, errors.New("wire: bad zone offset " + quoteShort(zone))
			}
			return time.FixedZone(zone, off), nil
		}
	}
	if zone == "Local" {
		return nil, errors.New(`wire: time zone "Local" is not accepted from the engine`)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, errors.New("wire: unknown time zone " + quoteShort(zone) + ": " + err.Error())
	}
	return loc, nil
}

// parseOffset parses ±H, ±HH, ±HHMM, ±HH:MM, ±HHMMSS, ±HH:MM:SS into
// seconds east of UTC, within ±18:00 as Java's ZoneOffset allows.
func parseOffset(s string) (int, bool) {
	if len(s) < 2 {
		return 0, false
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	} else if s[0] != '+' {
		return 0, false
	}
	s = s[1:]
	num := func(t string) (int, bool) {
		if len(t) != 2 || t[0] < '0' || t[0] > '9' || t[1] < '0' || t[1] > '9' {
			return 0, false
		}
		return int(t[0]-'0')*10 + int(t[1]-'0'), true
	}
	var h, m, sec int
	var ok bool
	switch {
	case len(s) == 1 && s[0] >= '0' && s[0] <= '9':
		h, ok = int(s[0]-'0'), true
	case len(s) == 2:
		h, ok = num(s)
	case len(s) == 4:
		h, ok = num(s[:2])
		if ok {
			m, ok = num(s[2:])
		}
	case len(s) == 5 && s[2] == ':':
		h, ok = num(s[:2])
		if ok {
			m, ok = num(s[3:])
		}
	case len(s) == 6:
		h, ok = num(s[:2])
		if ok {
			m, ok = num(s[2:4])
		}
		if ok {
			sec, ok = num(s[4:])
		}
	case len(s) == 8 && s[2] == ':' && s[5] == ':':
		h, ok = num(s[:2])
		if ok {
			m, ok = num(s[3:5])
		}
		if ok {
			sec, ok = num(s[6:])
		}
	}
	if !ok || m > 59 || sec > 59 {
		return 0, false
	}
	total := h*3600 + m*60 + sec
	if total > 18*3600 {
		return 0, false
	}
	return sign * total, true
}
