package server

import (
	"fmt"
	"strings"

	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/problem"
)

// nearest finds, for a request no operation took, the operation it most
// resembles and says why it is not that one.
func (s *Server) nearest(method, path string) *journal.Nearest {
	names := s.names
	if m := s.owner(path); m != nil {
		names = []string{m.vendor.Name()}
	}
	var best *journal.Nearest
	bestScore := 0
	for _, n := range names {
		m := s.vendor[n]
		for _, r := range m.validator.Operations() {
			tmpl := m.vendor.BasePath() + r.Path
			sc, why := resemblance(method, path, r.Method, tmpl)
			if best == nil || sc > bestScore {
				best = &journal.Nearest{Vendor: n, Operation: r.Operation.OperationID, Method: r.Method, Path: tmpl, Reasons: why}
				bestScore = sc
			}
		}
	}
	if best != nil && len(best.Reasons) == 0 {
		best.Reasons = []string{"the path matches this operation's template but no route took it (encoded slash or unsupported characters?)"}
	}
	if best != nil && s.owner(path) == nil {
		best.Reasons = append(best.Reasons, "no vendor serves this path prefix")
	}
	return best
}

// invalidNearest explains a request that reached an operation but failed
// validation.
func invalidNearest(vendor, op, method, path string, p *problem.Problem) *journal.Nearest {
	n := &journal.Nearest{Vendor: vendor, Operation: op, Method: method, Path: path}
	for _, is := range p.Issues {
		n.Reasons = append(n.Reasons, strings.TrimSpace(is.In+" "+is.Field)+": "+is.Message)
	}
	if len(n.Reasons) == 0 {
		n.Reasons = []string{p.Message}
	}
	return n
}

// specPath writes an Echo route path (/v1/environments/:envID) in the
// specs' template style (/v1/environments/{envID}), the one Nearest uses
// for every request.
func specPath(echoPath string) string {
	segs := strings.Split(echoPath, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

func segments(p string) []string { return strings.Split(strings.Trim(p, "/"), "/") }

// resemblance scores how close a request is to an operation: equal
// literal segments weigh most, filled parameters and the method next,
// near-miss spellings a little; the reasons list every difference.
func resemblance(method, path, opMethod, tmpl string) (int, []string) {
	rs, ts := segments(path), segments(tmpl)
	score := 0
	var why []string
	for i := 0; i < min(len(rs), len(ts)); i++ {
		t, r := ts[i], rs[i]
		switch {
		case strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}"):
			if r == "" {
				why = append(why, fmt.Sprintf("path parameter %s is empty", t))
			} else {
				score += 2
			}
		case t == r:
			score += 3
		case strings.EqualFold(t, r):
			score++
			why = append(why, fmt.Sprintf("path segment %d is %q, the operation has %q (letter case differs)", i+1, r, t))
		case distance(t, r) <= 2:
			score++
			why = append(why, fmt.Sprintf("path segment %d is %q, the operation has %q", i+1, r, t))
		default:
			score--
			why = append(why, fmt.Sprintf("path segment %d is %q, the operation has %q", i+1, r, t))
		}
	}
	if d := len(rs) - len(ts); d != 0 {
		score -= 2 * max(d, -d)
		why = append(why, fmt.Sprintf("the path has %d segments, the operation's %s has %d", len(rs), tmpl, len(ts)))
	}
	if strings.HasSuffix(path, "/") && !strings.HasSuffix(tmpl, "/") && len(path) > 1 {
		why = append(why, "the path ends with a slash, the operation's does not")
	}
	if strings.EqualFold(method, opMethod) {
		score += 2
	} else {
		why = append(why, fmt.Sprintf("method is %s, the operation takes %s", method, opMethod))
	}
	return score, why
}

// distance is the Levenshtein distance, for spotting typos.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// nearestName suggests the operationId closest to a mistyped one.
func nearestName(name string, ops map[string]opRef) string {
	best, bestD := "", 4
	for id := range ops {
		if d := distance(strings.ToLower(name), strings.ToLower(id)); d < bestD || d == bestD && id < best {
			best, bestD = id, d
		}
	}
	return best
}
