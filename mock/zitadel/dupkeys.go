package zitadel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// duplicateKey finds the first member name repeated within one JSON
// object of body: protojson refuses such a request ("duplicate field"),
// where Go's decoder would silently keep the last value. It returns the
// name and protojson's 1-based line and column of the repeated name.
func duplicateKey(body []byte) (name string, line, col int, found bool) {
	if noDuplicateKey(body) {
		return "", 0, 0, false // the common case, without json.Decoder's allocations
	}
	return exactDuplicateKey(body)
}

// exactDuplicateKey is duplicateKey by json.Decoder's tokens: names
// compared decoded, positions exact.
func exactDuplicateKey(body []byte) (name string, line, col int, found bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		object bool
		keys   map[string]bool
		want   bool // the next token of an object is a name
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", 0, 0, false // EOF, or invalid JSON: the decoder reports that
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.want {
			if k, ok := tok.(string); ok {
				top.want = false
				if top.keys[k] {
					end := int(dec.InputOffset())
					start := openingQuote(body, end)
					line, col := position(body, start)
					return k, line, col, true
				}
				top.keys[k] = true
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, keys: map[string]bool{}, want: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: an enclosing object expects a name next.
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].want = true
		}
	}
}

// openingQuote finds the quote that opens the string ending before end.
func openingQuote(b []byte, end int) int {
	for i := end - 2; i >= 0; i-- {
		if b[i] != '"' {
			continue
		}
		n := 0
		for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return i
		}
	}
	return 0
}

// position is protojson's line and column (in runes) of offset.
func position(b []byte, offset int) (int, int) {
	before := b[:min(offset, len(b))]
	line := bytes.Count(before, []byte("\n")) + 1
	if i := bytes.LastIndexByte(before, '\n'); i >= 0 {
		before = before[i+1:]
	}
	return line, utf8.RuneCount(before) + 1
}

// duplicateErr is protojson's error for a repeated member.
func duplicateErr(connect bool, message, name string, line, col int) *zerr {
	return plainErr(codeInvalidArgument, "%s", protoPrefix(connect, message)+fmt.Sprintf("(line %d:%d): duplicate field %q", line, col, name))
}

// noDuplicateKey reports, without allocating, that body surely repeats no
// member name. It compares names as written, so it answers "maybe"
// (false) for names with escapes or non-ASCII bytes, which may decode
// alike, and for what it does not follow (deep nesting, many names,
// broken JSON); duplicateKey's exact scan then decides.
func noDuplicateKey(body []byte) bool {
	var isObj [32]bool
	var start [32]int
	var names [64][]byte
	seen := names[:0]
	depth := 0
	prev := byte(0) // the last token: '{', '[', ',', ':' or 'v' (a value)
	for i := 0; i < len(body); i++ {
		switch ch := body[i]; ch {
		case ' ', '\t', '\n', '\r':
		case '{', '[':
			if depth == len(isObj) {
				return false
			}
			isObj[depth], start[depth] = ch == '{', len(seen)
			depth++
			prev = ch
		case '}', ']':
			if depth == 0 {
				return false
			}
			depth--
			seen = seen[:start[depth]]
			prev = 'v'
		case ',', ':':
			prev = ch
		case '"':
			j, plain := i+1, true
			for ; j < len(body) && body[j] != '"'; j++ {
				if body[j] == '\\' {
					plain = false
					j++
				} else if body[j] >= utf8.RuneSelf {
					plain = false
				}
			}
			if j >= len(body) {
				return false
			}
			if depth > 0 && isObj[depth-1] && (prev == '{' || prev == ',') {
				name := body[i+1 : j]
				if !plain || len(seen) == cap(seen) {
					return false
				}
				for _, n := range seen[start[depth-1]:] {
					if bytes.Equal(n, name) {
						return false
					}
				}
				seen = append(seen, name)
			}
			i, prev = j, 'v'
		default:
			prev = 'v'
		}
	}
	return true
}
