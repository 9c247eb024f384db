package pingone_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/patrickcping/pingone-go-sdk-v2/management"

	"github.com/idpmock/idpmock/mock/pingone"
)

// TestPingOneGoSDK drives the user-session endpoints with PingOne's Go SDK
// (the only session calls it has), pointed at the mock both ways
// vendors/pingone.md describes.
func TestPingOneGoSDK(t *testing.T) {
	srv := start(t, pingone.Options{}, t0)
	host := strings.TrimPrefix(srv.URL, "http://")
	configs := map[string]func() *management.Configuration{
		"servers": func() *management.Configuration {
			cfg := management.NewConfiguration()
			cfg.Servers = management.ServerConfigurations{{URL: srv.URL + "/v1"}}
			return cfg
		},
		"server variables": func() *management.Configuration {
			cfg := management.NewConfiguration()
			cfg.SetDefaultServerIndex(1)
			must(t, cfg.SetDefaultServerVariableDefaultValue("baseHostname", host))
			must(t, cfg.SetDefaultServerVariableDefaultValue("protocol", "http"))
			return cfg
		},
	}
	for name, newConfig := range configs {
		t.Run(name, func(t *testing.T) {
			reseed(t, srv)
			cfg := newConfig()
			cfg.HTTPClient = srv.AnonymousClient()
			api := management.NewAPIClient(cfg).SessionsApi
			ctx := context.WithValue(context.Background(), management.ContextAccessToken, "sdk-token")

			// Read all.
			res, err := api.EnvironmentsEnvironmentIDUsersUserIDSessionsGet(ctx, envID, userID).Execute()
			must(t, err)
			var list struct {
				Embedded struct {
					Sessions []struct {
						ID string `json:"id"`
					} `json:"sessions"`
				} `json:"_embedded"`
			}
			decode(t, res, &list)
			if len(list.Embedded.Sessions) != 1 || list.Embedded.Sessions[0].ID != seededSessionID {
				t.Fatalf("read all: %+v", list)
			}

			// Read one.
			res, err = api.EnvironmentsEnvironmentIDUsersUserIDSessionsSessionIDGet(ctx, envID, userID, seededSessionID).Execute()
			must(t, err)
			var one map[string]any
			decode(t, res, &one)
			if one["id"] != seededSessionID || get(one, "browser.name") != "Firefox" {
				t.Fatalf("read one: %v", one)
			}

			// Delete, then it is gone: the 404 decodes into P1Error intact.
			res, err = api.EnvironmentsEnvironmentIDUsersUserIDSessionsSessionIDDelete(ctx, envID, userID, seededSessionID).Execute()
			must(t, err)
			if res.StatusCode != http.StatusNoContent {
				t.Fatalf("delete: %s", res.Status)
			}
			res, err = api.EnvironmentsEnvironmentIDUsersUserIDSessionsSessionIDGet(ctx, envID, userID, seededSessionID).Execute()
			p1 := p1Error(t, err)
			if res == nil || res.StatusCode != http.StatusNotFound {
				t.Fatalf("read deleted: %v", res)
			}
			if p1.GetCode() != "NOT_FOUND" || p1.GetMessage() != "The request could not be completed. The requested resource was not found." || p1.GetId() == "" {
				t.Errorf("P1Error = %+v", p1)
			}

			// No token: 401 ACCESS_FAILED with the INVALID_TOKEN detail.
			_, err = api.EnvironmentsEnvironmentIDUsersUserIDSessionsGet(context.Background(), envID, userID).Execute()
			p1 = p1Error(t, err)
			if p1.GetCode() != "ACCESS_FAILED" || len(p1.GetDetails()) != 1 || p1.GetDetails()[0].GetCode() != "INVALID_TOKEN" {
				t.Errorf("401 P1Error = %+v", p1)
			}
		})
	}
}

func p1Error(t *testing.T, err error) management.P1Error {
	t.Helper()
	var gerr *management.GenericOpenAPIError
	if !errors.As(err, &gerr) {
		t.Fatalf("error %v (%T), want *management.GenericOpenAPIError", err, err)
	}
	p1, ok := gerr.Model().(management.P1Error)
	if !ok {
		t.Fatalf("model %T, want management.P1Error; body %s", gerr.Model(), gerr.Body())
	}
	return p1
}

func decode(t *testing.T, res *http.Response, v any) {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	must(t, err)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
