// Command protogen compiles proto files with protocompile (pure Go, no
// protoc) and feeds them to protoc plugins run as Go tools, so `make
// generate` needs nothing but the pinned modules in go.mod. Building `go
// tool buf` costs minutes on a small machine; this driver builds in
// seconds.
//
//	go run ./mock/internal/protogen -I DIR -out DIR -plugin go -plugin connect-go FILE...
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/bufbuild/protocompile"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/pluginpb"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	var include, plugins list
	flag.Var(&include, "I", "import path (repeatable)")
	flag.Var(&plugins, "plugin", "protoc plugin as a go tool, without the protoc-gen- prefix (repeatable)")
	out := flag.String("out", ".", "output directory")
	opt := flag.String("opt", "paths=source_relative", "plugin parameter")
	flag.Parse()
	if err := run(context.Background(), include, plugins, *out, *opt, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "protogen:", err)
		os.Exit(1)
	}
}

// googleAPI serves google/api/*.proto from the descriptors linked into
// genproto, so the HTTP annotations need no vendored .proto copies.
func googleAPI(path string) (protocompile.SearchResult, error) {
	switch path {
	case "google/api/annotations.proto":
		return protocompile.SearchResult{Desc: annotations.File_google_api_annotations_proto}, nil
	case "google/api/http.proto":
		return protocompile.SearchResult{Desc: annotations.File_google_api_http_proto}, nil
	}
	return protocompile.SearchResult{}, os.ErrNotExist
}

func run(ctx context.Context, include, plugins []string, out, opt string, files []string) error {
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(protocompile.CompositeResolver{
			&protocompile.SourceResolver{ImportPaths: include},
			protocompile.ResolverFunc(googleAPI),
		}),
		SourceInfoMode: protocompile.SourceInfoStandard,
	}
	compiled, err := c.Compile(ctx, files...)
	if err != nil {
		return err
	}
	req := &pluginpb.CodeGeneratorRequest{FileToGenerate: files, Parameter: proto.String(opt)}
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) { // dependencies first, as protoc sends them
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imps := fd.Imports()
		for i := range imps.Len() {
			add(imps.Get(i).FileDescriptor)
		}
		req.ProtoFile = append(req.ProtoFile, protodesc.ToFileDescriptorProto(fd))
	}
	for _, f := range compiled {
		add(f)
	}
	for _, p := range plugins {
		if err := plugin(ctx, p, req, out); err != nil {
			return fmt.Errorf("protoc-gen-%s: %w", p, err)
		}
	}
	return nil
}

func plugin(ctx context.Context, name string, req *pluginpb.CodeGeneratorRequest, out string) error {
	in, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "tool", "protoc-gen-"+name)
	cmd.Stdin, cmd.Stderr = bytes.NewReader(in), os.Stderr
	raw, err := cmd.Output()
	if err != nil {
		return err
	}
	var resp pluginpb.CodeGeneratorResponse
	if err := proto.Unmarshal(raw, &resp); err != nil {
		return err
	}
	if resp.Error != nil {
		return errors.New(resp.GetError())
	}
	for _, f := range resp.File {
		path := filepath.Join(out, filepath.FromSlash(f.GetName()))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(f.GetContent()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
