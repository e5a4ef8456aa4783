package audit

import (
	"strconv"
	"strings"
)

// What the admin's audit page shows instead of codes: each action as a
// phrase, each object by its name or title. Names are read when the log is
// shown (the log itself keeps ids only), so a renamed pair shows its
// current name, and a purged one its kind and number.

// actionLabels are the actions as people read them.
var actionLabels = map[string]string{
	"assignment.read":             "Opened homework",
	"assignment.create":           "Assigned homework",
	"audit.export":                "Downloaded the audit log",
	"checkin.read":                "Read check-ins",
	"checkin.create":              "Submitted a check-in",
	"checkin.edit":                "Edited a check-in",
	"checkin.review":              "Marked a check-in reviewed",
	"export.csv":                  "Downloaded check-ins (CSV)",
	"export.pdf":                  "Downloaded the progress report (PDF)",
	"feedback.create":             "Wrote feedback",
	"invitation.create":           "Invited",
	"invitation.link_shown":       "Showed a new invitation link",
	"login":                       "Signed in",
	"logout":                      "Signed out",
	"mail.resend":                 "Sent an email again",
	"mfa.disabled":                "Turned off two-step sign-in",
	"mfa.enrolled":                "Turned on two-step sign-in",
	"mfa.recovery_codes_replaced": "Replaced recovery codes",
	"mfa.reset":                   "Reset two-step sign-in",
	"pair.create":                 "Created a pair",
	"pair.exported":               "Exported a closed pair",
	"pair.purged":                 "Purged a closed pair",
	"pair.read":                   "Opened a pair",
	"password.changed":            "Changed their password",
	"password_reset.link_shown":   "Issued a password-reset link",
	"plan.apply":                  "Applied a repair plan",
	"practice.retention_changed":  "Changed how long closed pairs are kept",
	"progress.read":               "Opened progress",
	"reminders.unsubscribe":       "Turned off reminders by email link",
	"route.denied":                "Refused: not theirs to open",
	"safety_alert.acknowledge":    "Acknowledged a safety answer",
	"safety_alert.read":           "Read safety flags",
	"session.ended":               "Ended a session",
	"sessions.ended_by_admin":     "Sessions ended by an admin",
	"sessions.ended_by_disable":   "Sessions ended: account disabled",
	"sessions.ended_by_reset":     "Sessions ended by a password reset",
	"sessions.ended_others":       "Ended their other sessions",
}

// ActionLabel is an action as people read it; an action without a phrase
// is shown as its code with the dots and underscores as spaces.
func ActionLabel(action string) string {
	if l, ok := actionLabels[action]; ok {
		return l
	}
	l := strings.NewReplacer(".", " ", "_", " ").Replace(action)
	if l == "" {
		return l
	}
	return strings.ToUpper(l[:1]) + l[1:]
}

// kindLabels are the object types as people read them.
var kindLabels = map[string]string{
	"assignment": "Homework", "checkin": "Check-in", "feedback": "Feedback", "pair": "Pair",
	"pair_plan": "Repair plan", "practice": "Practice", "safety_alert": "Safety answer",
	"user": "Person", "email": "Email", "session": "Session", "audit_log": "Audit log",
}

// KindLabel is an object type as people read it.
func KindLabel(objectType string) string {
	if l, ok := kindLabels[objectType]; ok {
		return l
	}
	return ActionLabel(objectType)
}

// objectNameSQL names the object of audit entry a, within its practice:
// a pair's label, a homework's step title and pair, whose check-in it is,
// a person's name. NULL when the object is gone (purged) or has no name.
const objectNameSQL = `CASE a.object_type
	WHEN 'pair' THEN (SELECT p.label FROM pairs p WHERE p.id = a.object_id AND p.practice_id = a.practice_id)
	WHEN 'assignment' THEN (SELECT v.title || ' · ' || p.label FROM assignments x
		JOIN step_versions v ON v.id = x.step_version_id JOIN pairs p ON p.id = x.pair_id
		WHERE x.id = a.object_id AND x.practice_id = a.practice_id)
	WHEN 'checkin' THEN (SELECT u.name || '’s check-in on ' || v.title || ', ' || to_char(c.period_start, 'FMDD Mon YYYY')
		FROM checkins c JOIN users u ON u.id = c.user_id JOIN assignments x ON x.id = c.assignment_id
		JOIN step_versions v ON v.id = x.step_version_id
		WHERE c.id = a.object_id AND c.practice_id = a.practice_id)
	WHEN 'feedback' THEN (SELECT 'on ' || u.name || '’s check-in of ' || to_char(c.period_start, 'FMDD Mon YYYY')
		FROM feedback f JOIN checkins c ON c.id = f.checkin_id JOIN users u ON u.id = c.user_id
		WHERE f.id = a.object_id AND f.practice_id = a.practice_id)
	WHEN 'safety_alert' THEN (SELECT u.name || ', ' || to_char(coalesce(c.period_start, mr.answered_on), 'FMDD Mon YYYY')
		FROM safety_alerts s LEFT JOIN checkins c ON c.id = s.checkin_id
		LEFT JOIN measure_responses mr ON mr.id = s.measure_response_id
		JOIN users u ON u.id = coalesce(c.user_id, mr.user_id)
		WHERE s.id = a.object_id AND s.practice_id = a.practice_id)
	WHEN 'pair_plan' THEN (SELECT pp.name || ' · ' || p.label FROM pair_plans pp JOIN pairs p ON p.id = pp.pair_id
		WHERE pp.id = a.object_id AND pp.practice_id = a.practice_id)
	WHEN 'user' THEN (SELECT u.name FROM users u WHERE u.id = a.object_id AND u.practice_id = a.practice_id)
	WHEN 'practice' THEN (SELECT pr.name FROM practices pr WHERE pr.id = a.object_id AND pr.id = a.practice_id)
END`

// ActionText is the entry's action as people read it.
func (r Row) ActionText() string { return ActionLabel(r.Action) }

// ObjectText is what the entry is about: the object's kind and name, e.g.
// "Pair: Maya & Daniel", or its kind and number when it has no name (left).
func (r SearchRow) ObjectText() string {
	kind := KindLabel(r.ObjectType)
	switch {
	case r.ObjectName.Valid && r.ObjectName.String != "":
		return kind + ": " + r.ObjectName.String
	case r.ObjectID.Valid:
		return kind + " no. " + strconv.FormatInt(r.ObjectID.Int64, 10) + " (no longer exists)"
	}
	return kind
}
