package web_test

import (
	"net/url"
	"testing"

	"github.com/mend-practice/mend/internal/web/webtest"
)

// Matrix rows of measures (issue 20). Definitions are the practice's: the
// admin reads and writes them, nobody else reaches them. A pair's measures
// are read by its counselor and the practice's admin, given by the
// counselor only; a client answers their own.

// measureFixtures adds the measures' ids: measure.* the demo's closeness
// check of each practice (own and other: northside's, foreign:
// riverbank's); draft.* fresh drafts without item texts; measureassign.*
// the demo's assignment of each target pair; measureend.* a second
// assignment of each target pair, for the row that ends one.
func measureFixtures(t *testing.T, env *webtest.Env, f *fixtures) {
	t.Helper()
	practice := func(target string) int64 {
		return env.ID(t, `SELECT practice_id FROM pairs WHERE id = $1`, f.pair(target))
	}
	for _, target := range targets {
		f.ids["measure."+target] = env.ID(t, `SELECT id FROM measures WHERE practice_id = $1 ORDER BY id LIMIT 1`, practice(target))
		f.ids["draft."+target] = env.ID(t, `
			WITH m AS (INSERT INTO measures (practice_id) VALUES ($1) RETURNING id, practice_id)
			INSERT INTO measure_versions (practice_id, measure_id, version, name, definition)
			SELECT m.practice_id, m.id, 1, 'Draft', mv.definition || '{"items": [{"text": "", "options": [{"label": "", "value": 0}, {"label": "", "value": 1}]}], "min_answered": 1, "subscales": [], "critical": null}'::jsonb
			FROM m, (SELECT definition FROM measure_versions WHERE practice_id = $1 ORDER BY id LIMIT 1) mv RETURNING measure_id`, practice(target))
		f.ids["measureassign."+target] = env.ID(t, `SELECT id FROM measure_assignments WHERE pair_id = $1 ORDER BY id LIMIT 1`, f.pair(target))
		f.ids["measureend."+target] = env.ID(t, `
			INSERT INTO measure_assignments (practice_id, pair_id, measure_id, starts_on)
			SELECT practice_id, pair_id, measure_id, starts_on FROM measure_assignments WHERE id = $1 RETURNING id`,
			f.ids["measureassign."+target])
	}
}

var _ = addMatrixRows(
	matrixRow{Method: "GET", Route: "/admin/measures", Expect: "anon=303 admin=200 counselor=404 client=404"},
	matrixRow{Method: "POST", Route: "/admin/measures", Form: url.Values{"structure": {"gad7"}},
		Expect: "anon=303 admin=303 counselor=404 client=404"},
	// No file: the message beside the file field.
	matrixRow{Method: "POST", Route: "/admin/measures/import", Expect: "anon=303 admin=422 counselor=404 client=404"},
	matrixRow{Method: "GET", Route: "/admin/measures/:id", Path: idPath("measure", "/admin/measures/%d"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=404/404/404 client=404/404/404"},
	// An empty form is refused (no structure) and changes nothing.
	matrixRow{Method: "POST", Route: "/admin/measures/:id", Path: idPath("measure", "/admin/measures/%d"),
		Expect: "anon=303/303/303 admin=422/422/404 counselor=404/404/404 client=404/404/404"},
	// A draft without item texts cannot be activated.
	matrixRow{Method: "POST", Route: "/admin/measures/:id/activate", Path: idPath("draft", "/admin/measures/%d/activate"),
		Expect: "anon=303/303/303 admin=422/422/404 counselor=404/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/admin/measures/:id/deactivate", Path: idPath("draft", "/admin/measures/%d/deactivate"),
		Expect: "anon=303/303/303 admin=303/303/404 counselor=404/404/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/admin/measures/:id/export.json", Path: idPath("measure", "/admin/measures/%d/export.json"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=404/404/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/pairs/:id/measures", Path: pairPath("/pairs/%d/measures"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=200/404/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/pairs/:id/measures.csv", Path: pairPath("/pairs/%d/measures.csv"),
		Expect: "anon=303/303/303 admin=200/200/404 counselor=200/404/404 client=404/404/404"},
	// No measure chosen: the message beside the field.
	matrixRow{Method: "POST", Route: "/pairs/:id/measures", Path: pairPath("/pairs/%d/measures"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=422/404/404 client=404/404/404"},
	matrixRow{Method: "POST", Route: "/measure-assignments/:id/end", Path: idPath("measureend", "/measure-assignments/%d/end"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=303/404/404 client=404/404/404"},
	matrixRow{Method: "GET", Route: "/measures", Expect: "anon=303 admin=404 counselor=404 client=200"},
	matrixRow{Method: "GET", Route: "/measures/:id", Path: idPath("measureassign", "/measures/%d"),
		Expect: "anon=303/303/303 admin=404/404/404 counselor=404/404/404 client=200/404/404"},
	// The demo's weekly measure was answered yesterday: not due again yet.
	matrixRow{Method: "POST", Route: "/measures/:id", Path: idPath("measureassign", "/measures/%d"),
		Form:   url.Values{"go": {"send"}},
		Expect: "anon=303/303/303 admin=404/404/404 counselor=404/404/404 client=409/404/404"},
)
