// Package measure holds questionnaires that the partners of a pair answer
// (measures): their definitions, per practice and versioned; scoring as pure
// functions; the JSON file a practice exports and imports; and a Store for
// definitions, assignments to pairs and answers.
//
// Mend ships the structure of a few instruments whose authors allow free
// clinical use, with every item text empty: the practice fills the words
// from its own licensed copy, and a measure cannot be activated while an
// item has no text. Mend's repository never holds a published item's words.
package measure

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/mend-practice/mend/internal/mend"
)

// Who answers a measure.
const (
	AnswerEach = "each" // each partner answers for themselves
	AnswerOne  = "one"  // one partner (chosen when the counselor assigns it)
)

// Score methods.
const (
	Sum  = "sum"
	Mean = "mean"
)

// Limits on a definition (odd input is refused with a message, never a 500).
const (
	MaxItems     = 60
	MaxOptions   = 11
	MaxText      = 500
	MaxLabel     = 80
	MaxName      = 120
	MaxNote      = 2000
	MaxValue     = 100
	MaxSubscales = 10
	MaxBands     = 10
)

// Option is one answer an item offers and the value it scores.
type Option struct {
	Label string `json:"label"` // empty: the value is shown
	Value int    `json:"value"`
}

// Item is one question. Its text is empty in shipped structures until the
// practice fills it from its licensed copy.
type Item struct {
	Text    string   `json:"text"`
	Options []Option `json:"options"`
	// Reverse items score max+min-value (of the item's own option values).
	Reverse bool `json:"reverse,omitempty"`
}

// Subscale is a named group of items (1-based numbers) scored on its own.
type Subscale struct {
	Key   string `json:"key"`
	Name  string `json:"name"`
	Items []int  `json:"items"`
}

// Band is a range of the total from From (inclusive) up to the next band's
// From. Severity orders bands: the highest is the most severe.
type Band struct {
	From     float64 `json:"from"`
	Label    string  `json:"label"`
	Severity int     `json:"severity"`
}

// Critical is the rule that raises a safety flag: item Item (1-based)
// answered with a value of AtLeast or more.
type Critical struct {
	Item    int `json:"item"`
	AtLeast int `json:"at_least"`
}

// Definition is one version of a measure.
type Definition struct {
	Name      string `json:"name"`
	Structure string `json:"structure,omitempty"` // the shipped structure it started from
	// Licence is the licence and attribution note the practice keeps with it.
	Licence string `json:"licence"`
	// Note is shown with the measure, e.g. "not a validated instrument".
	Note       string     `json:"note,omitempty"`
	AnsweredBy string     `json:"answered_by"`
	Items      []Item     `json:"items"`
	Method     string     `json:"method"`               // sum or mean
	Multiplier float64    `json:"multiplier,omitempty"` // applied to the raw score (WHO-5: 4); 0 means 1
	Subscales  []Subscale `json:"subscales,omitempty"`
	Bands      []Band     `json:"bands"`
	// MinAnswered is how many items must be answered for a valid score.
	MinAnswered int       `json:"min_answered"`
	Critical    *Critical `json:"critical,omitempty"`
	// ShowClient lets a client see their own score and band; ShareTotal
	// also lets the partner see it (never the answers).
	ShowClient bool `json:"show_client"`
	ShareTotal bool `json:"share_total"`
	// ChangePoints and GapPoints feed the attention queue: a change of at
	// least ChangePoints since the member's previous answer, and the
	// partners' latest totals GapPoints or more apart (0: rule off).
	ChangePoints float64 `json:"change_points,omitempty"`
	GapPoints    float64 `json:"gap_points,omitempty"`
}

// Range is the lowest and highest score the definition can give.
func (d Definition) Range() (lo, hi float64) {
	var min, max float64
	for _, it := range d.Items {
		a, b := it.span()
		min += float64(a)
		max += float64(b)
	}
	if d.Method == Mean && len(d.Items) > 0 {
		min /= float64(len(d.Items))
		max /= float64(len(d.Items))
	}
	m := d.multiplier()
	return min * m, max * m
}

func (d Definition) multiplier() float64 {
	if d.Multiplier == 0 {
		return 1
	}
	return d.Multiplier
}

// span is the lowest and highest option value of an item.
func (it Item) span() (lo, hi int) {
	for i, o := range it.Options {
		if i == 0 || o.Value < lo {
			lo = o.Value
		}
		if i == 0 || o.Value > hi {
			hi = o.Value
		}
	}
	return lo, hi
}

// Shown is how an option is shown: its label, else its value.
func (o Option) Shown() string {
	if o.Label != "" {
		return o.Label
	}
	return fmt.Sprint(o.Value)
}

// MostSevere is the highest severity among the bands (-1: no bands).
func (d Definition) MostSevere() int {
	s := -1
	for _, b := range d.Bands {
		if b.Severity > s {
			s = b.Severity
		}
	}
	return s
}

// BandOf returns the band a total falls in (ok false: no band covers it).
func (d Definition) BandOf(total float64) (Band, bool) {
	var out Band
	ok := false
	for _, b := range d.Bands { // ascending by From (Validate)
		if total+1e-9 >= b.From {
			out, ok = b, true
		}
	}
	return out, ok
}

// clean trims the texts of a definition.
func (d *Definition) clean() {
	d.Name = strings.TrimSpace(d.Name)
	d.Licence = strings.TrimSpace(d.Licence)
	d.Note = strings.TrimSpace(d.Note)
	for i := range d.Items {
		d.Items[i].Text = strings.TrimSpace(d.Items[i].Text)
		for j := range d.Items[i].Options {
			d.Items[i].Options[j].Label = strings.TrimSpace(d.Items[i].Options[j].Label)
		}
	}
	for i := range d.Bands {
		d.Bands[i].Label = strings.TrimSpace(d.Bands[i].Label)
	}
	for i := range d.Subscales {
		d.Subscales[i].Name = strings.TrimSpace(d.Subscales[i].Name)
		d.Subscales[i].Key = strings.TrimSpace(d.Subscales[i].Key)
	}
	sort.SliceStable(d.Bands, func(i, j int) bool { return d.Bands[i].From < d.Bands[j].From })
}

func okText(s string, max int) string {
	switch {
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		return "This contains characters that cannot be stored."
	case utf8.RuneCountInString(s) > max:
		return fmt.Sprintf("Keep this to %d characters.", max)
	}
	return ""
}

// Validate checks a definition's structure (item texts may be empty: a
// draft is saved before the practice fills them). Field names are those of
// the edit form: name, licence, note, item_N, definition (the rest).
func (d *Definition) Validate() error {
	d.clean()
	var fe mend.FieldErrors
	if d.Name == "" {
		fe.Add("name", "Give the measure a name.")
	} else if m := okText(d.Name, MaxName); m != "" {
		fe.Add("name", m)
	}
	if m := okText(d.Licence, MaxNote); m != "" {
		fe.Add("licence", m)
	}
	if m := okText(d.Note, MaxNote); m != "" {
		fe.Add("note", m)
	}
	if d.AnsweredBy != AnswerEach && d.AnsweredBy != AnswerOne {
		fe.Add("answered_by", "Choose who answers: each partner, or one.")
	}
	if d.Method != Sum && d.Method != Mean {
		fe.Add("method", "Choose how the score is made: the sum or the mean of the items.")
	}
	if d.Multiplier < 0 || d.Multiplier > 100 || math.IsNaN(d.Multiplier) {
		fe.Add("multiplier", "The multiplier must be between 0 and 100.")
	}
	if len(d.Items) == 0 || len(d.Items) > MaxItems {
		fe.Add("definition", fmt.Sprintf("A measure has between 1 and %d items.", MaxItems))
	}
	for i, it := range d.Items {
		f := fmt.Sprintf("item_%d", i+1)
		if m := okText(it.Text, MaxText); m != "" {
			fe.Add(f, m)
		}
		if len(it.Options) < 2 || len(it.Options) > MaxOptions {
			fe.Add("definition", fmt.Sprintf("Item %d needs between 2 and %d answer options.", i+1, MaxOptions))
		}
		seen := map[int]bool{}
		for _, o := range it.Options {
			if o.Value < -MaxValue || o.Value > MaxValue {
				fe.Add("definition", fmt.Sprintf("Item %d: option values must be between %d and %d.", i+1, -MaxValue, MaxValue))
			}
			if seen[o.Value] {
				fe.Add("definition", fmt.Sprintf("Item %d offers the value %d twice.", i+1, o.Value))
			}
			seen[o.Value] = true
			if m := okText(o.Label, MaxLabel); m != "" {
				fe.Add(f, m)
			}
		}
	}
	if len(d.Subscales) > MaxSubscales {
		fe.Add("definition", fmt.Sprintf("A measure has at most %d subscales.", MaxSubscales))
	}
	keys := map[string]bool{}
	for _, s := range d.Subscales {
		if s.Name == "" || s.Key == "" || okText(s.Name, MaxLabel) != "" || okText(s.Key, 40) != "" {
			fe.Add("definition", "Every subscale needs a key and a name (up to 80 characters).")
		}
		if keys[s.Key] {
			fe.Add("definition", fmt.Sprintf("Two subscales have the key %q.", s.Key))
		}
		keys[s.Key] = true
		if len(s.Items) == 0 {
			fe.Add("definition", fmt.Sprintf("Subscale %q has no items.", s.Name))
		}
		for _, n := range s.Items {
			if n < 1 || n > len(d.Items) {
				fe.Add("definition", fmt.Sprintf("Subscale %q names item %d, which does not exist.", s.Name, n))
			}
		}
	}
	if len(d.Bands) == 0 || len(d.Bands) > MaxBands {
		fe.Add("bands", fmt.Sprintf("Give between 1 and %d severity bands.", MaxBands))
	}
	for i, b := range d.Bands {
		if b.Label == "" || okText(b.Label, MaxLabel) != "" {
			fe.Add("bands", "Every band needs a label (up to 80 characters).")
		}
		if math.IsNaN(b.From) || math.IsInf(b.From, 0) || math.Abs(b.From) > 1e6 {
			fe.Add("bands", "A band starts at a number.")
		}
		if i > 0 && b.From == d.Bands[i-1].From {
			fe.Add("bands", "Two bands start at the same score.")
		}
		if b.Severity < 0 || b.Severity > 20 {
			fe.Add("bands", "A band's severity is between 0 and 20.")
		}
	}
	if d.MinAnswered < 1 || d.MinAnswered > len(d.Items) {
		fe.Add("min_answered", fmt.Sprintf("Between 1 and %d items (the number of items) must be answered.", max(len(d.Items), 1)))
	}
	if c := d.Critical; c != nil {
		if c.Item < 1 || c.Item > len(d.Items) {
			fe.Add("critical_item", "The critical item must be one of the measure's items (or 0 for none).")
		} else {
			lo, hi := d.Items[c.Item-1].span()
			if c.AtLeast < lo || c.AtLeast > hi {
				fe.Add("critical_at_least", fmt.Sprintf("The critical value must be one item %d can take (%d to %d).", c.Item, lo, hi))
			}
		}
	}
	for _, p := range []struct {
		field string
		v     float64
	}{{"change_points", d.ChangePoints}, {"gap_points", d.GapPoints}} {
		if math.IsNaN(p.v) || p.v < 0 || p.v > 1e6 {
			fe.Add(p.field, "Give a number of points, 0 or more (0 turns the rule off).")
		}
	}
	return fe.Err()
}

// Ready reports what keeps a valid definition from being activated: every
// item needs its text (nil: ready).
func (d Definition) Ready() error {
	var fe mend.FieldErrors
	for i, it := range d.Items {
		if it.Text == "" {
			fe.Add(fmt.Sprintf("item_%d", i+1), "Fill in this item's text from your licensed copy before activating the measure.")
		}
	}
	if err := fe.Err(); err != nil {
		return &mend.Error{Code: mend.EINVALID, Message: "Every item needs its text before the measure can be activated.", Fields: fe}
	}
	return nil
}
