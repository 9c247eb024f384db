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
