package validate_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	pingone "github.com/idpmock/idpmock/gen/pingone"
	zitadel "github.com/idpmock/idpmock/gen/zitadel"
	"github.com/idpmock/idpmock/mock/validate"
)

// BenchmarkRequest is request validation alone, against the real vendor
// specs: the cost the validator adds to every request the mock serves.
func BenchmarkRequest(b *testing.B) {
	const env, sid = "abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6", "ee14fe02-6b74-46b3-81f2-2de2a384fa1b"
	pingBody := []byte(`{"activeAt":"2026-01-01T00:00:00.000Z","idleTimeoutInMinutes":480,` +
		`"lastSignOn":{"authenticators":["pwd"],"remoteIp":"203.0.113.7","withAuthenticator":{"pwd":{"at":"2026-01-01T00:00:00.000Z",` +
		`"policy":{"id":"874d5c7d-5e1c-4e73-b2b5-dfe1453b02f5","type":"PINGONE"}}}},` +
		`"user":{"id":"07e1ee43-9f56-4254-8cfb-1709b5ea8e24"},"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:103.0) Gecko/20100101 Firefox/103.0"}`)
	cases := []struct {
		name   string
		spec   func() (*openapi3.T, error)
		base   string
		method string
		route  string // Echo pattern
		url    string
		params map[string]string
		body   []byte
	}{
		{"pingone-create", pingone.GetSpec, "/v1", http.MethodPost, "/v1/environments/:envID/sessions",
			"/v1/environments/" + env + "/sessions", map[string]string{"envID": env}, pingBody},
		{"pingone-read", pingone.GetSpec, "/v1", http.MethodGet, "/v1/environments/:envID/sessions/:sessionID",
			"/v1/environments/" + env + "/sessions/" + sid, map[string]string{"envID": env, "sessionID": sid}, nil},
		{"zitadel-rest-create", zitadel.GetSpec, "", http.MethodPost, "/v2/sessions", "/v2/sessions", map[string]string{},
			[]byte(`{"checks":{"user":{"loginName":"mini@mouse.com"}}}`)},
		{"zitadel-rest-get", zitadel.GetSpec, "", http.MethodGet, "/v2/sessions/:sessionId", "/v2/sessions/280310260781907970",
			map[string]string{"sessionId": "280310260781907970"}, nil},
	}
	for _, tc := range cases {
		doc, err := tc.spec()
		if err != nil {
			b.Fatal(err)
		}
		v, err := validate.New(doc, tc.base)
		if err != nil {
			b.Fatal(err)
		}
		route := v.Route(tc.method, tc.route)
		if route == nil {
			b.Fatalf("%s: no route %s %s", tc.name, tc.method, tc.route)
		}
		b.Run(tc.name, func(b *testing.B) {
			req, _ := http.NewRequest(tc.method, "http://127.0.0.1"+tc.url, nil)
			req.Header.Set("Authorization", "Bearer bench")
			if tc.body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			params := make(map[string]string, len(tc.params))
			b.ReportAllocs()
			for b.Loop() {
				if tc.body != nil {
					req.Body = io.NopCloser(bytes.NewReader(tc.body))
					req.ContentLength = int64(len(tc.body))
				}
				for k, v := range tc.params {
					params[k] = v
				}
				if _, p := v.Request(context.Background(), req, route, params); p != nil {
					b.Fatalf("invalid: %v", p)
				}
			}
		})
	}
}
