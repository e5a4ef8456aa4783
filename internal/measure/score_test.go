package measure

import (
	"strings"
	"testing"

	"github.com/mend-practice/mend/internal/mend"
)

// small is a 4-item test measure: items 0–4, item 2 reverse-keyed, two
// subscales, bands at 0/5/10, at least 3 items answered, item 4 ≥ 3
// critical.
func small(method string) Definition {
	opts := scale(0, 4)
	return Definition{
		Name: "Test", AnsweredBy: AnswerEach, Method: method, MinAnswered: 3,
		Items: []Item{{Text: "a", Options: opts}, {Text: "b", Options: opts, Reverse: true},
			{Text: "c", Options: opts}, {Text: "d", Options: opts}},
		Subscales: []Subscale{{Key: "x", Name: "X", Items: []int{1, 2}}, {Key: "y", Name: "Y", Items: []int{3, 4}}},
		Bands:     []Band{{0, "Low", 0}, {5, "Middle", 1}, {10, "High", 2}},
		Critical:  &Critical{Item: 4, AtLeast: 3},
	}
}

func TestReverseKeyedItemsAreFlipped(t *testing.T) {
	d := small(Sum)
	// item 2 answered 0 scores 4, answered 4 scores 0.
	if r := d.Score(Answers{1: 0, 2: 0, 3: 0, 4: 0}); r.Total != 4 {
		t.Errorf("all zero with item 2 reversed: total %v, want 4", r.Total)
	}
	if r := d.Score(Answers{1: 0, 2: 4, 3: 0, 4: 0}); r.Total != 0 {
		t.Errorf("item 2 answered 4 (reversed to 0): total %v, want 0", r.Total)
	}
	// A reversed item with values 1..7 flips around its own range.
	d7 := Definition{Method: Sum, MinAnswered: 1, Items: []Item{{Options: scale(1, 7), Reverse: true}}, Bands: []Band{{0, "x", 0}}}
	if r := d7.Score(Answers{1: 2}); r.Total != 6 {
		t.Errorf("1..7 item answered 2, reversed: %v, want 6", r.Total)
	}
}

func TestSubscalesScoreTheirOwnItems(t *testing.T) {
	d := small(Sum)
	r := d.Score(Answers{1: 3, 2: 1, 3: 2, 4: 4})
	if len(r.Subscales) != 2 {
		t.Fatalf("subscales: %+v", r.Subscales)
	}
	// X = 3 + (4-1) = 6; Y = 2 + 4 = 6; total 12.
	if x := r.Subscales[0]; !x.Valid || x.Score != 6 || x.Name != "X" {
		t.Errorf("X: %+v, want 6", x)
	}
	if y := r.Subscales[1]; !y.Valid || y.Score != 6 {
		t.Errorf("Y: %+v, want 6", y)
	}
	if r.Total != 12 {
		t.Errorf("total %v, want 12", r.Total)
	}
	// A subscale with an unanswered item has no score, the other keeps its.
	r = d.Score(Answers{1: 3, 2: 1, 3: 2})
	if r.Subscales[1].Valid || !r.Subscales[0].Valid {
		t.Errorf("with item 4 unanswered: %+v", r.Subscales)
	}
}

func TestSumAndMean(t *testing.T) {
	a := Answers{1: 1, 2: 1, 3: 4, 4: 2} // scored 1, 3, 4, 2
	if r := small(Sum).Score(a); r.Total != 10 {
		t.Errorf("sum %v, want 10", r.Total)
	}
	if r := small(Mean).Score(a); r.Total != 2.5 {
		t.Errorf("mean %v, want 2.5", r.Total)
	}
	// A mean is of the answered items only; 3 of 4 is enough here.
	if r := small(Mean).Score(Answers{1: 1, 2: 1, 3: 4}); !r.Valid || r.Total != 2.67 {
		t.Errorf("mean of three: %+v, want 2.67", r)
	}
	// A multiplier scales the raw sum (WHO-5: ×4).
	who := Structures()["who5"].Definition
	if r := who.Score(Answers{1: 5, 2: 5, 3: 5, 4: 5, 5: 4}); r.Total != 96 {
		t.Errorf("WHO-5 raw 24 ×4 = %v, want 96", r.Total)
	}
	if lo, hi := who.Range(); lo != 0 || hi != 100 {
		t.Errorf("WHO-5 range %v–%v, want 0–100", lo, hi)
	}
	if lo, hi := Structures()["csi4"].Definition.Range(); lo != 0 || hi != 21 {
		t.Errorf("CSI-4 range %v–%v, want 0–21", lo, hi)
	}
	if _, hi := Structures()["phq9"].Definition.Range(); hi != 27 {
		t.Errorf("PHQ-9 top %v, want 27", hi)
	}
}

func TestBandsAtTheirEdges(t *testing.T) {
	phq := Structures()["phq9"].Definition
	for total, want := range map[int]string{0: "Minimal", 4: "Minimal", 5: "Mild", 9: "Mild", 10: "Moderate",
		14: "Moderate", 15: "Moderately severe", 19: "Moderately severe", 20: "Severe", 27: "Severe"} {
		b, ok := phq.BandOf(float64(total))
		if !ok || b.Label != want {
			t.Errorf("PHQ-9 %d: %q, want %q", total, b.Label, want)
		}
	}
	csi := Structures()["csi4"].Definition
	for total, want := range map[float64]string{13: "Distressed", 13.49: "Distressed", 13.5: "Not distressed", 14: "Not distressed"} {
		if b, _ := csi.BandOf(total); b.Label != want {
			t.Errorf("CSI-4 %v: %q, want %q", total, b.Label, want)
		}
	}
	who := Structures()["who5"].Definition
	if b, _ := who.BandOf(50); b.Label != "Low wellbeing" {
		t.Errorf("WHO-5 50 is low, got %q", b.Label)
	}
	if b, _ := who.BandOf(52); b.Label != "Not low" {
		t.Errorf("WHO-5 52 is not low, got %q", b.Label)
	}
	// A full PHQ-9 scored: eight 2s and a 3 is 19, the band below severe.
	r := phq.Score(Answers{1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2, 8: 2, 9: 3})
	if r.Total != 19 || r.Band.Label != "Moderately severe" || !r.Critical {
		t.Errorf("PHQ-9 19: %+v", r)
	}
	if phq.MostSevere() != 4 {
		t.Errorf("most severe %d", phq.MostSevere())
	}
}

func TestTooFewItemsAnsweredGivesNoScore(t *testing.T) {
	d := small(Sum)
	r := d.Score(Answers{1: 4, 4: 4})
	if r.Valid || r.HasBand || r.Total != 0 || r.Answered != 2 {
		t.Errorf("two of four answered (three needed): %+v", r)
	}
	for _, s := range r.Subscales {
		if s.Valid {
			t.Errorf("a subscale scored without a valid total: %+v", s)
		}
	}
	// The critical answer counts even when the total is not valid.
	if !r.Critical {
		t.Error("item 4 answered 4 is critical even with too few answers")
	}
	if r := d.Score(Answers{}); r.Valid || r.Critical {
		t.Errorf("nothing answered: %+v", r)
	}
	if r := d.Score(Answers{1: 4, 2: 0, 4: 2}); !r.Valid || r.Critical || r.Total != 10 || r.Band.Label != "High" {
		t.Errorf("three answered, item 4 below critical: %+v", r)
	}
}

func TestAnswersOutsideTheItemsAreRefused(t *testing.T) {
	d := small(Sum)
	for _, a := range []Answers{{5: 1}, {0: 1}, {1: 5}, {1: -1}} {
		if d.Check(a) == nil {
			t.Errorf("%v accepted", a)
		}
	}
	if err := d.Check(Answers{1: 4, 2: 0}); err != nil {
		t.Error(err)
	}
}

func TestShippedStructuresHaveNoWordsAndCannotBeActivated(t *testing.T) {
	for key, s := range Structures() {
		d := s.Definition
		if err := d.Validate(); err != nil {
			t.Errorf("%s does not validate: %v", key, err)
		}
		if key == OwnKey {
			if err := d.Ready(); err != nil {
				t.Errorf("Mend's own measure is not ready: %v", err)
			}
			if !strings.Contains(d.Note, "Not a validated instrument") {
				t.Errorf("Mend's own measure says %q", d.Note)
			}
			continue
		}
		for i, it := range d.Items {
			if it.Text != "" {
				t.Errorf("%s item %d ships words", key, i+1)
			}
			for _, o := range it.Options {
				if o.Label != "" {
					t.Errorf("%s item %d ships an answer label", key, i+1)
				}
			}
		}
		err := d.Ready()
		if mend.ErrorCode(err) != mend.EINVALID || mend.Fields(err)["item_1"] == "" {
			t.Errorf("%s with empty items can be activated: %v", key, err)
		}
		for i := range d.Items {
			d.Items[i].Text = "filled"
		}
		if err := d.Ready(); err != nil {
			t.Errorf("%s filled: %v", key, err)
		}
	}
}

func TestOddDefinitionsAreRefusedWithMessages(t *testing.T) {
	for name, change := range map[string]func(d *Definition){
		"no name":         func(d *Definition) { d.Name = "  " },
		"NUL in name":     func(d *Definition) { d.Name = "a\x00b" },
		"one option":      func(d *Definition) { d.Items[0].Options = d.Items[0].Options[:1] },
		"huge value":      func(d *Definition) { d.Items[0].Options[0].Value = 1 << 40 },
		"subscale item":   func(d *Definition) { d.Subscales[0].Items = []int{9} },
		"critical item":   func(d *Definition) { d.Critical.Item = 7 },
		"critical value":  func(d *Definition) { d.Critical.AtLeast = 9 },
		"min answered":    func(d *Definition) { d.MinAnswered = 5 },
		"no bands":        func(d *Definition) { d.Bands = nil },
		"method":          func(d *Definition) { d.Method = "max" },
		"who answers":     func(d *Definition) { d.AnsweredBy = "" },
		"same band start": func(d *Definition) { d.Bands[1].From = 0 },
	} {
		d := small(Sum)
		change(&d)
		if err := d.Validate(); mend.ErrorCode(err) != mend.EINVALID || len(mend.Fields(err)) == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestImportedExportScoresTheSame(t *testing.T) {
	answers := []Answers{
		{1: 3, 2: 1, 3: 2, 4: 4}, {1: 0, 2: 4, 3: 0, 4: 0}, {1: 4, 4: 4}, {1: 1, 2: 2, 3: 3},
	}
	for _, d := range []Definition{small(Sum), small(Mean), Structures()[OwnKey].Definition} {
		b, err := Export(d)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Import(b)
		if err != nil {
			t.Fatalf("import of an export: %v", err)
		}
		for _, a := range answers {
			if d.Check(a) != nil {
				continue
			}
			want, got := d.Score(a), back.Score(a)
			if want.Total != got.Total || want.Valid != got.Valid || want.Band != got.Band ||
				want.Critical != got.Critical || len(want.Subscales) != len(got.Subscales) {
				t.Errorf("%s %v: exported %+v, imported %+v", d.Name, a, want, got)
			}
			for i := range want.Subscales {
				if want.Subscales[i] != got.Subscales[i] {
					t.Errorf("%s subscale %d: %+v vs %+v", d.Name, i, want.Subscales[i], got.Subscales[i])
				}
			}
		}
	}
	for name, b := range map[string]string{
		"not json": "hello", "other format": `{"mend_measure": 9, "definition": {}}`,
		"unknown field": `{"mend_measure": 1, "definition": {"name": "x"}, "extra": 1}`,
		"incomplete":    `{"mend_measure": 1, "definition": {"name": "x"}}`,
	} {
		if _, err := Import([]byte(b)); mend.Fields(err)["file"] == "" {
			t.Errorf("%s: %v", name, err)
		}
	}
}
