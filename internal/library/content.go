// Package library is Mend's repair-step library and plan templates: the
// built-in steps and plan (read-only, loaded from builtin/steps.json by
// SyncBuiltins after migrations), and each practice's own steps and plans.
//
// A step's wording is versioned. Saving a step adds a version; homework
// records the version it was given, so changing a step's text later never
// rewrites homework a pair already has.
//
// Every Store method takes the caller's Scope: staff see the built-ins and
// their own practice's steps and plans; clients see nothing here (they read
// their homework's text through the homework store).
package library

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mend-practice/mend/internal/mend"
)

// Instructions are what to do: together, and for each side of a pair.
type Instructions struct {
	Both  []string `json:"both"`
	Broke []string `json:"broke"`
	Hurt  []string `json:"hurt"`
}

// Value stores Instructions as jsonb. It is text: the database handle
// sends []byte parameters in binary (db.ConnString), which jsonb would
// not read as JSON.
func (i Instructions) Value() (driver.Value, error) {
	i.Both, i.Broke, i.Hurt = nonNil(i.Both), nonNil(i.Broke), nonNil(i.Hurt)
	return jsonText(i)
}

func jsonText(v any) (driver.Value, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// Scan reads Instructions from jsonb.
func (i *Instructions) Scan(src any) error { return scanJSON(src, i) }

// Questions are a step's check-in questions.
type Questions []string

// Value stores Questions as jsonb (text, as Instructions).
func (q Questions) Value() (driver.Value, error) { return jsonText(nonNil(q)) }

// Scan reads Questions from jsonb.
func (q *Questions) Scan(src any) error { return scanJSON(src, q) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func scanJSON(src any, dst any) error {
	var b []byte
	switch v := src.(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	case nil:
		return nil
	default:
		return fmt.Errorf("library: cannot scan %T as json", src)
	}
	return json.Unmarshal(b, dst)
}

// Content is one version of a step's wording.
type Content struct {
	Title        string       `db:"title" json:"title"`
	Summary      string       `db:"summary" json:"summary"`
	Why          string       `db:"why" json:"why"`
	Instructions Instructions `db:"instructions" json:"instructions"`
	Questions    Questions    `db:"questions" json:"questions"`
	DurationDays int          `db:"duration_days" json:"duration_days"`
	// Reveal makes the step a reveal exercise: both partners answer the
	// questions alone and read each other's answers only at the reveal.
	// "" (an ordinary step) or one of the Reveal… rules.
	Reveal string `db:"reveal_rule" json:"reveal,omitempty"`
}

// Reveal rules of a reveal exercise (step_versions.reveal_rule).
const (
	// RevealBoth reveals a period's answers when both partners have answered.
	RevealBoth = "both"
	// RevealCounselor waits, once both have answered, for the counselor to
	// read them and release them (with an optional note).
	RevealCounselor = "counselor"
	// RevealSession never reveals in the app: the counselor brings the
	// answers to a session.
	RevealSession = "session"
)

// RevealRules are the rules a step form offers, in order, with their labels.
var RevealRules = []struct{ Value, Label string }{
	{"", "No — an ordinary step with check-ins"},
	{RevealBoth, "Reveal exercise: show both answers when both have answered"},
	{RevealCounselor, "Reveal exercise: I read both first and release them"},
	{RevealSession, "Reveal exercise: in session only, never shown in the app"},
}

// ValidReveal reports whether r is "" or a reveal rule.
func ValidReveal(r string) bool {
	return r == "" || r == RevealBoth || r == RevealCounselor || r == RevealSession
}

// same reports whether two versions say the same thing.
func (c Content) same(o Content) bool {
	a, _ := json.Marshal(c.normal())
	b, _ := json.Marshal(o.normal())
	return string(a) == string(b)
}

func (c Content) normal() Content {
	c.Instructions.Both = nonNil(c.Instructions.Both)
	c.Instructions.Broke = nonNil(c.Instructions.Broke)
	c.Instructions.Hurt = nonNil(c.Instructions.Hurt)
	c.Questions = nonNil(c.Questions)
	return c
}

// Section is a heading with its instructions, as one reader should see them.
type Section struct {
	Heading string
	Items   []string
}

// Sides of a pair member (pair_members.side).
const (
	SideBrokeTrust = "broke_trust"
	SideWasHurt    = "was_hurt"
	SideMutual     = "mutual"
)

// Headings used when instructions are shown.
const (
	HeadingBoth  = "For both of you"
	HeadingYou   = "For you"
	HeadingBroke = "For the partner who broke the trust"
	HeadingHurt  = "For the partner who was hurt"
)

// For returns the instructions a member on side should see: the shared ones,
// then their own side's under "For you". Someone whose side is mutual or not
// known sees both sides' lists, each under a heading that says whom it is
// for. Empty lists are left out.
func (i Instructions) For(side string) []Section {
	var out []Section
	add := func(h string, items []string) {
		if len(items) > 0 {
			out = append(out, Section{Heading: h, Items: items})
		}
	}
	add(HeadingBoth, i.Both)
	switch side {
	case SideBrokeTrust:
		add(HeadingYou, i.Broke)
	case SideWasHurt:
		add(HeadingYou, i.Hurt)
	default:
		add(HeadingBroke, i.Broke)
		add(HeadingHurt, i.Hurt)
	}
	return out
}

// All returns every list under its heading (the counselor's view).
func (i Instructions) All() []Section { return i.For(SideMutual) }

// StepInput is a step as typed in the step form: one instruction or
// question per line, the duration as text.
type StepInput struct {
	Title, Summary, Why     string
	Both, Broke, Hurt       string
	Questions, DurationDays string
	Reveal                  string
}

// Limits on a step's text, so that a page and an email stay readable.
const (
	maxTitle     = 120
	maxSummary   = 300
	maxWhy       = 3000
	maxItem      = 600
	maxItems     = 20
	maxQuestions = 6
	maxDuration  = 365
)

// Parse validates typed step content, returning field errors keyed by the
// form's field names.
func (in StepInput) Parse() (Content, error) {
	var fe mend.FieldErrors
	c := Content{
		Title:   strings.TrimSpace(in.Title),
		Summary: strings.TrimSpace(in.Summary),
		Why:     strings.TrimSpace(in.Why),
		Instructions: Instructions{
			Both:  lines(in.Both),
			Broke: lines(in.Broke),
			Hurt:  lines(in.Hurt),
		},
		Questions: lines(in.Questions),
		Reveal:    strings.TrimSpace(in.Reveal),
	}
	if !ValidReveal(c.Reveal) {
		fe.Add("reveal", "Choose one of the offered options.")
	}
	switch {
	case c.Title == "":
		fe.Add("title", "Enter a title.")
	case tooLong(c.Title, maxTitle):
		fe.Add("title", fmt.Sprintf("Use at most %d characters.", maxTitle))
	}
	if tooLong(c.Summary, maxSummary) {
		fe.Add("summary", fmt.Sprintf("Use at most %d characters.", maxSummary))
	}
	if tooLong(c.Why, maxWhy) {
		fe.Add("why", fmt.Sprintf("Use at most %d characters.", maxWhy))
	}
	for _, f := range []struct {
		name  string
		items []string
	}{{"both", c.Instructions.Both}, {"broke", c.Instructions.Broke}, {"hurt", c.Instructions.Hurt}} {
		checkItems(&fe, f.name, f.items, maxItems)
	}
	if len(c.Instructions.Both)+len(c.Instructions.Broke)+len(c.Instructions.Hurt) == 0 {
		fe.Add("both", "Give at least one instruction, one per line.")
	}
	checkItems(&fe, "questions", c.Questions, maxQuestions)
	if len(c.Questions) == 0 {
		fe.Add("questions", "Give at least one check-in question, one per line.")
	}
	d, err := strconv.Atoi(strings.TrimSpace(in.DurationDays))
	if err != nil || d < 1 || d > maxDuration {
		fe.Add("duration_days", fmt.Sprintf("Enter a number of days from 1 to %d.", maxDuration))
	}
	c.DurationDays = d
	return c, fe.Err()
}

func checkItems(fe *mend.FieldErrors, field string, items []string, max int) {
	if len(items) > max {
		fe.Add(field, fmt.Sprintf("Use at most %d lines.", max))
	}
	for _, it := range items {
		if tooLong(it, maxItem) {
			fe.Add(field, fmt.Sprintf("Keep each line under %d characters.", maxItem))
		}
	}
}

// InputOf is the form view of existing content (for an edit form).
func InputOf(c Content) StepInput {
	return StepInput{
		Title: c.Title, Summary: c.Summary, Why: c.Why,
		Both:         strings.Join(c.Instructions.Both, "\n"),
		Broke:        strings.Join(c.Instructions.Broke, "\n"),
		Hurt:         strings.Join(c.Instructions.Hurt, "\n"),
		Questions:    strings.Join(c.Questions, "\n"),
		DurationDays: strconv.Itoa(c.DurationDays),
		Reveal:       c.Reveal,
	}
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		l = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), "-*•"))
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func tooLong(s string, n int) bool { return !utf8.ValidString(s) || utf8.RuneCountInString(s) > n }

func (c Content) validBuiltin() error {
	_, err := InputOf(c).Parse()
	if err != nil {
		return errors.New(mend.ErrorMessage(err) + fmt.Sprint(mend.Fields(err)))
	}
	return nil
}
