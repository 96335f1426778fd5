package wire

import (
	"errors"
	"strconv"
)

var (
	// ErrMalformed matches (errors.Is) every *DecodeError.
	ErrMalformed = errors.New("wire: malformed input")
	// ErrTruncated matches the *DecodeError values whose input ended early
	// (or declared a length larger than what is left). They match
	// ErrMalformed too.
	ErrTruncated = errors.New("wire: truncated input")
	// ErrInvalid is wrapped by the errors of AppendChunk and AppendMetadata
	// when the value cannot be represented on the wire.
	ErrInvalid = errors.New("wire: cannot encode")
)

// DecodeError is the error of every decoder in this package.
type DecodeError struct {
	Offset    int    // byte offset in the input where the problem was found
	What      string // what is wrong, naming the Thrift struct and field
	Truncated bool   // the input ended early or a length exceeds what is left
}

func (e *DecodeError) Error() string {
	kind := "malformed"
	if e.Truncated {
		kind = "truncated"
	}
	return "wire: " + kind + " input at byte " + strconv.Itoa(e.Offset) + ": " + e.What
}

// Is reports whether target is ErrMalformed, or ErrTruncated for a truncation.
func (e *DecodeError) Is(target error) bool {
	return target == ErrMalformed || (e.Truncated && target == ErrTruncated)
}

// Unwrap returns ErrTruncated for a truncation and ErrMalformed otherwise.
func (e *DecodeError) Unwrap() error {
	if e.Truncated {
		return ErrTruncated
	}
	return ErrMalformed
}

func itoa(i int) string { return strconv.Itoa(i) }
