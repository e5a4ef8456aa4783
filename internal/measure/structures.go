package measure

import "sort"

// Structure is a starting point a practice creates a measure from.
type Structure struct {
	Key        string
	Title      string
	Definition Definition
}

// The key of Mend's own short measure, used by the demo practice.
const OwnKey = "mend-closeness"

// scale is n+1 options valued from..from+n with empty labels: the practice
// enters the words of its licensed copy.
func scale(from, to int) []Option {
	var out []Option
	for v := from; v <= to; v++ {
		out = append(out, Option{Value: v})
	}
	return out
}

func blankItems(n, from, to int) []Item {
	out := make([]Item, n)
	for i := range out {
		out[i] = Item{Options: scale(from, to)}
	}
	return out
}

const structureNote = "Structure only: Mend does not ship this instrument's wording. Enter each item and answer " +
	"from your practice's own copy, and check the bands against it before activating."

// Structures are the shipped starting points, by key. Item texts are empty
// (except in Mend's own measure, whose words are Mend's).
func Structures() map[string]Structure {
	phq := Definition{
		Name: "PHQ-9", Structure: "phq9", AnsweredBy: AnswerEach, Method: Sum, MinAnswered: 9,
		Items: blankItems(9, 0, 3),
		Licence: "PHQ-9 (Kroenke, Spitzer and Williams), developed with an educational grant from Pfizer; " +
			"free to reproduce for clinical use. " + structureNote,
		Bands: []Band{{0, "Minimal", 0}, {5, "Mild", 1}, {10, "Moderate", 2}, {15, "Moderately severe", 3}, {20, "Severe", 4}},
		// Item 9 at or above its first non-zero answer raises a safety flag.
		Critical:     &Critical{Item: 9, AtLeast: 1},
		ChangePoints: 5, GapPoints: 5,
	}
	gad := Definition{
		Name: "GAD-7", Structure: "gad7", AnsweredBy: AnswerEach, Method: Sum, MinAnswered: 7,
		Items: blankItems(7, 0, 3),
		Licence: "GAD-7 (Spitzer, Kroenke, Williams and Löwe), developed with an educational grant from Pfizer; " +
			"free to reproduce for clinical use. " + structureNote,
		Bands:        []Band{{0, "Minimal", 0}, {5, "Mild", 1}, {10, "Moderate", 2}, {15, "Severe", 3}},
		ChangePoints: 4, GapPoints: 5,
	}
	who := Definition{
		Name: "WHO-5", Structure: "who5", AnsweredBy: AnswerEach, Method: Sum, Multiplier: 4, MinAnswered: 5,
		Items: blankItems(5, 0, 5),
		Licence: "WHO-5 Well-Being Index (WHO Regional Office for Europe, Psychiatric Research Unit, " +
			"Mental Health Centre North Zealand); free to use. " + structureNote,
		Bands:        []Band{{0, "Low wellbeing", 1}, {51, "Not low", 0}},
		ChangePoints: 10, GapPoints: 20,
	}
	csi := Definition{
		Name: "CSI-4", Structure: "csi4", AnsweredBy: AnswerEach, Method: Sum, MinAnswered: 4,
		Items: append([]Item{{Options: scale(0, 6)}}, blankItems(3, 0, 5)...),
		Licence: "Couples Satisfaction Index, 4-item form (Funk and Rogge, 2007); free for clinical and research use. " +
			structureNote,
		Bands:        []Band{{0, "Distressed", 1}, {13.5, "Not distressed", 0}},
		ChangePoints: 5, GapPoints: 5,
	}
	agree := []Option{{"Not at all", 0}, {"A little", 1}, {"Somewhat", 2}, {"Mostly", 3}, {"Completely", 4}}
	often := []Option{{"Never", 0}, {"Once", 1}, {"A few times", 2}, {"Often", 3}, {"Most of the time", 4}}
	own := Definition{
		Name: "Mend closeness check", Structure: OwnKey, AnsweredBy: AnswerEach, Method: Sum, MinAnswered: 5,
		Note:    "Not a validated instrument: a short check written for Mend to follow how each partner feels week to week.",
		Licence: "Written for Mend; free to use, change and share.",
		Items: []Item{
			{Text: "This week I could tell my partner what was on my mind.", Options: agree},
			{Text: "This week I trusted what my partner told me.", Options: agree},
			{Text: "This week a disagreement left me feeling unheard.", Options: agree, Reverse: true},
			{Text: "This week we spent time together that I enjoyed.", Options: agree},
			{Text: "I feel hopeful about where the two of us are heading.", Options: agree},
			{Text: "This week there were moments when I felt afraid of my partner.", Options: often, Reverse: true},
		},
		Subscales: []Subscale{
			{Key: "openness", Name: "Openness", Items: []int{1, 2, 3}},
			{Key: "connection", Name: "Connection", Items: []int{4, 5}},
		},
		Bands:        []Band{{0, "Struggling", 2}, {10, "Mixed", 1}, {17, "Steady", 0}},
		Critical:     &Critical{Item: 6, AtLeast: 3},
		ShowClient:   true,
		ChangePoints: 4, GapPoints: 6,
	}
	return map[string]Structure{
		"phq9": {Key: "phq9", Title: "PHQ-9 structure (9 items, 0–3; you enter the words)", Definition: phq},
		"gad7": {Key: "gad7", Title: "GAD-7 structure (7 items, 0–3; you enter the words)", Definition: gad},
		"who5": {Key: "who5", Title: "WHO-5 structure (5 items, 0–5, ×4; you enter the words)", Definition: who},
		"csi4": {Key: "csi4", Title: "CSI-4 structure (4 items; you enter the words)", Definition: csi},
		OwnKey: {Key: OwnKey, Title: "Mend closeness check (Mend's own words; not a validated instrument)", Definition: own},
	}
}

// StructureList is Structures in a fixed order, for a menu.
func StructureList() []Structure {
	m := Structures()
	out := make([]Structure, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
