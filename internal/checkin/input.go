package checkin

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mend-practice/mend/internal/mend"
)

// Status is how much of the homework the client did in the period.
type Status string

const (
	Done    Status = "done"
	Partly  Status = "partly"
	NotDone Status = "not_done"
)

// Label is how a status reads on a page.
func (s Status) Label() string {
	switch s {
	case Done:
		return "Done"
	case Partly:
		return "Partly done"
	case NotDone:
		return "Not done"
	}
	return string(s)
}

// Visibility is who may read a check-in besides its author.
type Visibility string

const (
	// ToCounselor: only the counselor (and the practice's admins).
	ToCounselor Visibility = "counselor"
	// ToPartner: the other member of the pair too.
	ToPartner Visibility = "partner"
)

// Limits on what a client types. The reflection limit is the product's
// promise (5,000 characters); answers and the safety note are shorter
// because they answer one question.
const (
	MaxReflection = 5000
	MaxAnswer     = 2000
	MaxSafetyNote = 1000
)

// Answer is one check-in question with the client's answer. The question is
// stored as it was asked, so a later edit of the step's wording never
// changes what the client was answering.
type Answer struct {
	Question string `json:"q"`
	Answer   string `json:"a"`
}

// Answers is the answers column (jsonb).
type Answers []Answer

// Value stores answers as JSON.
func (a Answers) Value() (driver.Value, error) {
	if a == nil {
		a = Answers{}
	}
	b, err := json.Marshal(a)
	return string(b), err
}

// Scan reads answers from JSON.
func (a *Answers) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	case nil:
		*a = nil
		return nil
	default:
		return fmt.Errorf("checkin: cannot scan %T into Answers", src)
	}
	return json.Unmarshal(b, a)
}

// Questions is a step's questions column (a JSON array of strings).
type Questions []string

// Scan reads questions from JSON.
func (q *Questions) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	case nil:
		*q = nil
		return nil
	default:
		return fmt.Errorf("checkin: cannot scan %T into Questions", src)
	}
	return json.Unmarshal(b, q)
}

// Input is a check-in form as typed: every value is the raw text, so that a
// form that fails validation can be shown again exactly as it was.
type Input struct {
	Period        string // the period's first day, YYYY-MM-DD (new check-ins only)
	Status        string
	Trust         string
	Communication string
	Hope          string
	Answers       []string // in the order of the questions
	Reflection    string
	Visibility    string
	Unsafe        bool // "I do not feel safe"
	SafetyNote    string
}

// fields is a validated Input.
type fields struct {
	Status                     Status
	Trust, Communication, Hope int
	Answers                    Answers
	Reflection                 string
	Visibility                 Visibility
	Unsafe                     bool
	SafetyNote                 string
}

// validate checks everything a client typed against the questions asked.
// Form field names: status, trust, communication, hope, answer_1…,
// reflection, visibility, safety_note.
func (in Input) validate(questions []string) (fields, error) {
	var fe mend.FieldErrors
	var f fields
	switch s := Status(strings.TrimSpace(in.Status)); s {
	case Done, Partly, NotDone:
		f.Status = s
	default:
		fe.Add("status", "Choose whether you did this homework: done, partly or not done.")
	}
	rating := func(name, label, v string) int {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 10 {
			fe.Add(name, "Choose how you feel about "+label+" on a scale from 1 to 10.")
			return 0
		}
		return n
	}
	f.Trust = rating("trust", "trust", in.Trust)
	f.Communication = rating("communication", "communication", in.Communication)
	f.Hope = rating("hope", "hope", in.Hope)

	f.Answers = make(Answers, len(questions))
	for i, q := range questions {
		var a string
		if i < len(in.Answers) {
			a = in.Answers[i]
		}
		name := "answer_" + strconv.Itoa(i+1)
		a, ok := cleanText(&fe, name, a, MaxAnswer)
		if ok {
			f.Answers[i] = Answer{Question: q, Answer: a}
		}
	}
	f.Reflection, _ = cleanText(&fe, "reflection", in.Reflection, MaxReflection)

	switch v := Visibility(strings.TrimSpace(in.Visibility)); v {
	case ToCounselor, ToPartner:
		f.Visibility = v
	default:
		fe.Add("visibility", "Choose who can read this check-in: only your counselor, or your partner too.")
	}

	f.Unsafe = in.Unsafe
	note, ok := cleanText(&fe, "safety_note", in.SafetyNote, MaxSafetyNote)
	if ok && note != "" && !f.Unsafe {
		fe.Add("safety_note", "Tick “I do not feel safe” to send this note to your counselor, or clear the note.")
	}
	f.SafetyNote = note
	return f, fe.Err()
}

// cleanText normalises line endings and surrounding space and checks that
// the text is readable (valid UTF-8 without control characters other than
// tabs and line breaks) and within max characters.
func cleanText(fe *mend.FieldErrors, name, s string, max int) (string, bool) {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
	}) {
		fe.Add(name, "This text contains characters we can't read. Please retype it.")
		return s, false
	}
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if n := utf8.RuneCountInString(s); n > max {
		fe.Add(name, fmt.Sprintf("This is %s characters long; the limit is %s. Please shorten it.", thousands(n), thousands(max)))
		return s, false
	}
	return s, true
}

// thousands writes 5000 as "5,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
