package proxy

import (
	"context"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/idpmock/idpmock/mock/admin"
	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/override"
	"github.com/idpmock/idpmock/mock/problem"
)

// backend gives the proxy the mock's control API shape: the journal
// (/__mock/journal, with the violations of each exchange as its problem)
// and the operation list work; what needs mock state is refused.
type backend struct {
	p     *Proxy
	clock *clock.Controlled
	set   *override.Set
}

func errProxyMode(what string) error {
	return problem.New(problem.Invalid, "%s is not available in proxy mode: the upstream vendor answers every request", what)
}

func (b *backend) Reset(context.Context, string) error { return errProxyMode("reset of vendor state") }

// ResetAll clears the journal, so a test run starts with an empty report.
func (b *backend) ResetAll(context.Context) error {
	if j := b.p.cfg.Journal; j != nil {
		j.Clear()
	}
	return nil
}

func (b *backend) DumpState(context.Context) (admin.State, error) {
	return admin.State{}, errProxyMode("state")
}
func (b *backend) LoadState(context.Context, admin.State) error { return errProxyMode("state") }

func (b *backend) Clock() *clock.Controlled { return b.clock }

func (b *backend) Journal() *journal.Journal { return b.p.cfg.Journal }

func (b *backend) Overrides() *override.Set { return b.set }

func (b *backend) AddOverride(context.Context, override.Spec) (override.Rule, error) {
	return override.Rule{}, errProxyMode("overrides")
}

func (b *backend) Reload(context.Context) admin.ReloadReport {
	return admin.ReloadReport{Reloaded: []string{}, Errors: []string{}}
}

func (b *backend) Operations() []admin.Operation {
	var out []admin.Operation
	for _, v := range b.p.cfg.Vendors {
		doc, err := v.Spec()
		if err != nil {
			continue
		}
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				out = append(out, admin.Operation{Vendor: v.Name(), ID: op.OperationID, Method: method, Path: v.BasePath() + path})
			}
		}
	}
	return out
}

// VendorSpec serves GET /__mock/openapi/{vendor} (admin.SpecSource): the
// spec exchanges are checked against.
func (b *backend) VendorSpec(name string) (*openapi3.T, bool) {
	for _, v := range b.p.cfg.Vendors {
		if v.Name() == name {
			doc, err := v.Spec()
			return doc, err == nil && doc != nil
		}
	}
	return nil, false
}
