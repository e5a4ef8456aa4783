package checkin

import "fmt"

// ChangesAfter says, plainly, what the edit that followed earlier version
// v changed: the check-in's next version (another earlier version, or the
// check-in as it is now) compared with v. Staff read it in the edit
// history, so that they need not compare two versions word by word.
func (c Checkin) ChangesAfter(v Version) []string {
	next := c.asVersion()
	for _, h := range c.History {
		if h.Version == v.Version+1 {
			next = h
		}
	}
	return changes(v, next)
}

// asVersion is the check-in as it is now, in the shape of an earlier
// version.
func (c Checkin) asVersion() Version {
	return Version{Version: c.Version, Status: c.Status, Trust: c.Trust, Communication: c.Communication, Hope: c.Hope,
		Answers: c.Answers, Reflection: c.Reflection, Visibility: c.Visibility, SafetyFlag: c.SafetyFlag, SafetyNote: c.SafetyNote}
}

// changes lists what differs from old to new.
func changes(old, new Version) []string {
	var out []string
	if old.Status != new.Status {
		out = append(out, fmt.Sprintf("homework: %s → %s", old.Status.Label(), new.Status.Label()))
	}
	for _, r := range []struct {
		name     string
		old, new int
	}{{"trust", old.Trust, new.Trust}, {"communication", old.Communication, new.Communication}, {"hope", old.Hope, new.Hope}} {
		if r.old != r.new {
			out = append(out, fmt.Sprintf("%s %d → %d", r.name, r.old, r.new))
		}
	}
	for i := range max(len(old.Answers), len(new.Answers)) {
		var o, n Answer
		if i < len(old.Answers) {
			o = old.Answers[i]
		}
		if i < len(new.Answers) {
			n = new.Answers[i]
		}
		q := n.Question
		if q == "" {
			q = o.Question
		}
		if what := textChange(o.Answer, n.Answer); what != "" {
			out = append(out, fmt.Sprintf("answer to “%s” %s", q, what))
		}
	}
	if what := textChange(old.Reflection, new.Reflection); what != "" {
		out = append(out, "reflection "+what)
	}
	if old.Visibility != new.Visibility {
		if new.Visibility == ToPartner {
			out = append(out, "shared with the partner")
		} else {
			out = append(out, "made private (counselor only)")
		}
	}
	switch {
	case !old.SafetyFlag && new.SafetyFlag:
		out = append(out, "safety flag raised")
	case old.SafetyFlag && !new.SafetyFlag:
		out = append(out, "safety flag taken back")
	}
	if what := textChange(old.SafetyNote, new.SafetyNote); what != "" {
		out = append(out, "safety note "+what)
	}
	return out
}

// textChange says how a piece of text changed: "added", "removed",
// "rewritten", or "" when it did not.
func textChange(old, new string) string {
	switch {
	case old == new:
		return ""
	case old == "":
		return "added"
	case new == "":
		return "removed"
	}
	return "rewritten"
}
