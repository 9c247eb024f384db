package validate

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

const wordingSpec = `
openapi: 3.0.3
info: {title: wording, version: "1"}
paths:
  /things:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object}
          application/x-idpmock-opaque:
            schema: {type: object}
      responses:
        "204": {description: ok}
`

// TestKinOpenAPIWording drives the kin-openapi in go.mod into each failure
// readWording recognises by its words, so a rewording fails here.
func TestKinOpenAPIWording(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData([]byte(wordingSpec))
	if err != nil {
		t.Fatal(err)
	}
	item := doc.Paths.Value("/things")
	route := &routers.Route{Spec: doc, Path: "/things", PathItem: item, Method: "POST", Operation: item.Post}
	tests := []struct {
		name, ctype, body string
		want              wording
	}{
		{"undeclared Content-Type", "text/plain", "hi", wording{kind: wordMediaType, detail: `"text/plain"`}},
		{"malformed JSON", "application/json", `{"a":`, wording{kind: wordUndecodable}},
		{"declared type without a decoder", "application/x-idpmock-opaque", `{}`, wording{kind: wordNoDecoder}},
		{"schema failure is not a wording case", "application/json", `[]`, wording{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/things", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ctype)
			err := openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
				Request: req, Route: route,
			})
			var re *openapi3filter.RequestError
			if !errors.As(err, &re) {
				t.Fatalf("kin-openapi answered %v, want a RequestError", err)
			}
			got := readWording(re)
			if got.kind != tt.want.kind || (tt.want.detail != "" && got.detail != tt.want.detail) {
				t.Errorf("readWording = %+v, want %+v (kin-openapi: reason %q, err %v)", got, tt.want, re.Reason, re.Err)
			}
		})
	}
}
