package contracts_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	zitadelv1 "github.com/idpmock/idpmock/gen/zitadelpb/zitadel"
	objectpb "github.com/idpmock/idpmock/gen/zitadelpb/zitadel/object/v2"
	sessionpb "github.com/idpmock/idpmock/gen/zitadelpb/zitadel/session/v2"
)

// zitadelProtoDir holds @zitadel/proto's protobuf-es code once `npm ci`
// ran in contracts/clients/zitadel-npm (make proto-contract).
const zitadelProtoDir = "clients/zitadel-npm/node_modules/@zitadel/proto/es"

var fileDescRE = regexp.MustCompile(`fileDesc\("([A-Za-z0-9+/=]+)"`)

// newerThanPublished are parts of our proto that ZITADEL added after
// @zitadel/proto 1.3.1 (its main branch has them, and the REST face serves
// them); anything else beyond the published descriptors is drift.
var newerThanPublished = []string{"ExpirationDateQuery", "expiration_date_query", "RecoveryCode", "recovery_code"}

// TestZitadelProtoMatchesPublished compares each of our ZITADEL proto files
// with the serialized FileDescriptorProto @zitadel/proto 1.3.1 embeds:
// package, messages, fields (name, number, label, type, oneof, optional),
// enums and services must match; options are ignored.
func TestZitadelProtoMatchesPublished(t *testing.T) {
	if _, err := os.Stat(zitadelProtoDir); err != nil {
		if os.Getenv("IDPMOCK_REQUIRE_NPM_CLIENT") == "1" {
			t.Fatalf("@zitadel/proto not installed: %v", err)
		}
		t.Skipf("@zitadel/proto not installed (run `make proto-contract`): %v", err)
	}
	ours := []protoreflect.FileDescriptor{
		zitadelv1.File_zitadel_message_proto, zitadelv1.File_zitadel_object_proto,
		objectpb.File_zitadel_object_v2_object_proto,
		sessionpb.File_zitadel_session_v2_challenge_proto, sessionpb.File_zitadel_session_v2_session_proto,
		sessionpb.File_zitadel_session_v2_session_service_proto,
	}
	for _, fd := range ours {
		t.Run(fd.Path(), func(t *testing.T) {
			js := filepath.Join(zitadelProtoDir, strings.TrimSuffix(fd.Path(), ".proto")+"_pb.js")
			src, err := os.ReadFile(js)
			if err != nil {
				t.Fatal(err)
			}
			m := fileDescRE.FindSubmatch(src)
			if m == nil {
				t.Fatalf("%s embeds no fileDesc", js)
			}
			raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(string(m[1]), "="))
			if err != nil {
				t.Fatal(err)
			}
			var published descriptorpb.FileDescriptorProto
			if err := proto.Unmarshal(raw, &published); err != nil {
				t.Fatal(err)
			}
			want, got := shapes(&published), shapes(protodesc.ToFileDescriptorProto(fd))
			for _, w := range want {
				if !slices.Contains(got, w) {
					t.Errorf("published, not ours: %s", w)
				}
			}
			for _, g := range got {
				if !slices.Contains(want, g) && !newer(g) {
					t.Errorf("ours, not published: %s", g)
				}
			}
			if len(want) < 5 {
				t.Fatalf("only %d shapes in the published descriptor", len(want))
			}
		})
	}
}

func newer(shape string) bool {
	for _, n := range newerThanPublished {
		if strings.Contains(shape, n) {
			return true
		}
	}
	return false
}

// shapes flattens a file's wire contract into comparable lines.
func shapes(f *descriptorpb.FileDescriptorProto) []string {
	out := []string{"package " + f.GetPackage()}
	var msg func(prefix string, m *descriptorpb.DescriptorProto)
	msg = func(prefix string, m *descriptorpb.DescriptorProto) {
		name := prefix + "." + m.GetName()
		out = append(out, fmt.Sprintf("message %s map=%v", name, m.GetOptions().GetMapEntry()))
		for _, fl := range m.GetField() {
			oneof := ""
			if fl.OneofIndex != nil {
				oneof = m.GetOneofDecl()[fl.GetOneofIndex()].GetName()
			}
			out = append(out, fmt.Sprintf("field %s.%s = %d %s %s %s oneof=%s optional=%v",
				name, fl.GetName(), fl.GetNumber(), fl.GetLabel(), fl.GetType(), fl.GetTypeName(), oneof, fl.GetProto3Optional()))
		}
		for _, r := range m.GetReservedRange() {
			out = append(out, fmt.Sprintf("reserved %s %d-%d", name, r.GetStart(), r.GetEnd()))
		}
		for _, r := range m.GetReservedName() {
			out = append(out, fmt.Sprintf("reserved %s %q", name, r))
		}
		for _, n := range m.GetNestedType() {
			msg(name, n)
		}
		for _, e := range m.GetEnumType() {
			enum(&out, name, e)
		}
	}
	pkg := "." + f.GetPackage()
	for _, m := range f.GetMessageType() {
		msg(pkg, m)
	}
	for _, e := range f.GetEnumType() {
		enum(&out, pkg, e)
	}
	for _, s := range f.GetService() {
		for _, md := range s.GetMethod() {
			out = append(out, fmt.Sprintf("rpc %s.%s.%s(%s) %s stream=%v/%v", pkg, s.GetName(), md.GetName(),
				md.GetInputType(), md.GetOutputType(), md.GetClientStreaming(), md.GetServerStreaming()))
		}
	}
	return out
}

func enum(out *[]string, prefix string, e *descriptorpb.EnumDescriptorProto) {
	for _, v := range e.GetValue() {
		*out = append(*out, fmt.Sprintf("enum %s.%s %s = %d", prefix, e.GetName(), v.GetName(), v.GetNumber()))
	}
}
