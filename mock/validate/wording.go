package validate

import (
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// kin-openapi reports some request-body failures only in English words, not
// in error types. This file is the one place that reads those words;
// TestKinOpenAPIWording checks each against the kin-openapi in go.mod, so a
// dependency bump that rewords one fails a test instead of turning a 415
// into a 400.

type wordKind int

const (
	wordOther       wordKind = iota
	wordMediaType            // the Content-Type is not one the operation declares
	wordUndecodable          // the body could not be decoded (bad JSON)
	wordNoDecoder            // the operation declares the type but kin-openapi has no decoder for it
)

type wording struct {
	kind   wordKind
	detail string // wordMediaType: the Content-Type sent; wordNoDecoder: kin-openapi's message
}

const (
	reasonMediaType   = "header Content-Type has unexpected value"
	reasonUndecodable = "failed to decode request body"
	errNoDecoder      = "unsupported content type"
)

// readWording classifies a request-body error by kin-openapi's words.
func readWording(re *openapi3filter.RequestError) wording {
	switch {
	case strings.HasPrefix(re.Reason, reasonMediaType):
		return wording{kind: wordMediaType, detail: strings.TrimSpace(strings.TrimPrefix(re.Reason, reasonMediaType))}
	case re.Reason == reasonUndecodable:
		if re.Err != nil && strings.Contains(re.Err.Error(), errNoDecoder) {
			return wording{kind: wordNoDecoder, detail: re.Err.Error()}
		}
		return wording{kind: wordUndecodable}
	}
	return wording{}
}
