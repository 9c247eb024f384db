package zitadel_test

import (
	"encoding/json"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	sessionpb "github.com/idpmock/idpmock/gen/zitadelpb/zitadel/session/v2"
	"github.com/idpmock/idpmock/mock/internal/httptestx"
	"github.com/idpmock/idpmock/mock/journal"
)

// TestRPCRefusedBinaryKeepsNoSecret: a refused binary call (gRPC with a
// broken envelope, Connect proto that does not decode) is journaled without
// the password it carries.
func TestRPCRefusedBinaryKeepsNoSecret(t *testing.T) {
	srv := start(t)
	b, _ := proto.Marshal(&sessionpb.SetSessionRequest{SessionId: "1", Checks: &sessionpb.Checks{Password: &sessionpb.CheckPassword{Password: "Sup3rSecret!"}}})
	for _, ct := range []string{"application/grpc", "application/proto"} {
		body := append([]byte{1, 0, 0, 0, byte(len(b))}, b...)
		if ct == "application/proto" {
			body = append(b, 0xff) // not decodable
		}
		httptestx.Send(t, h2c(), srv.URL, "POST", connectSv+"SetSession", string(body), "Content-Type", ct, "Authorization", bearer)
	}
	es := srv.Requests(journal.Query{Unmatched: true})
	if len(es) != 2 {
		t.Fatalf("%d unmatched entries, want 2", len(es))
	}
	for _, e := range es {
		j, _ := json.Marshal(e)
		if strings.Contains(string(j), "Sup3rSecret") {
			t.Errorf("secret kept: %s", j)
		}
	}
}
