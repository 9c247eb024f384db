package zitadel

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The proto3 JSON mapping (protojson) for the scalar types the service uses.

// fmtTime writes a Timestamp the way protojson does: UTC, "Z", and 0, 3, 6
// or 9 fractional digits.
func fmtTime(t time.Time) string {
	t = t.UTC()
	ns := t.Nanosecond()
	switch {
	case ns == 0:
		return t.Format("2006-01-02T15:04:05Z")
	case ns%1_000_000 == 0:
		return t.Format("2006-01-02T15:04:05.000Z")
	case ns%1_000 == 0:
		return t.Format("2006-01-02T15:04:05.000000Z")
	}
	return t.Format("2006-01-02T15:04:05.000000000Z")
}

func timePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := fmtTime(t)
	return &s
}

// parseTime reads an RFC 3339 Timestamp.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid google.protobuf.Timestamp value %q", s)
	}
	return t, nil
}

// parseDuration reads a Duration: decimal seconds with an "s" suffix.
func parseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("invalid google.protobuf.Duration value %q", s)
	num, ok := strings.CutSuffix(s, "s")
	if !ok || num == "" {
		return 0, bad
	}
	neg := strings.HasPrefix(num, "-")
	num = strings.TrimPrefix(num, "-")
	whole, frac, _ := strings.Cut(num, ".")
	if whole == "" || len(frac) > 9 {
		return 0, bad
	}
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || sec > 315_576_000_000 {
		return 0, bad
	}
	var nanos int64
	if frac != "" {
		n, err := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		if err != nil {
			return 0, bad
		}
		nanos = n
	}
	if sec > math.MaxInt64/int64(time.Second)-1 {
		// Beyond what time.Duration holds (~292 years) but a valid
		// Duration: ZITADEL reads it with durationpb's AsDuration, which
		// saturates, and so does the mock.
		if neg {
			return math.MinInt64, nil
		}
		return math.MaxInt64, nil
	}
	d := time.Duration(sec)*time.Second + time.Duration(nanos)
	if neg {
		d = -d
	}
	return d, nil
}

// decodeBytes reads a bytes value: standard or URL-safe base64, padded or
// not, as protojson accepts.
func decodeBytes(s string) ([]byte, error) {
	enc := base64.StdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}
	if len(s)%4 != 0 {
		enc = enc.WithPadding(base64.NoPadding)
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// encodeBytes writes a bytes value as protojson does: standard, padded.
func encodeBytes(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// parseUint reads a 64- or 32-bit unsigned integer sent as a JSON number or
// a decimal string (raw is the member's JSON).
func parseUint(raw []byte, bits int) (uint64, error) {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return 0, err
	}
	var s string
	switch t := v.(type) {
	case json.Number:
		s = t.String()
	case string:
		s = t
	case nil:
		return 0, nil
	default:
		return 0, errors.New("not a number")
	}
	n, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		// protojson also takes an exponent form that is still integral.
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f < 0 || f != math.Trunc(f) || f > math.Pow(2, float64(bits))-1 {
			return 0, err
		}
		return uint64(f), nil
	}
	return n, nil
}

func ptr[T any](v T) *T { return &v }

// strPtr returns nil for "", as protojson omits empty strings.
func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func uintStr(n uint64) *string {
	if n == 0 {
		return nil
	}
	return ptr(strconv.FormatUint(n, 10))
}
