package auth

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
)

// SessionCodec is how a session's data is stored (scs.SessionManager's
// Codec). scs's default, gob, sends the type of every value with the data,
// so each request decoded its session by first compiling a decoder for
// map[string]interface{}: a tenth of the web process's time on a kept
// page (issue 18). Mend's session values are only ints and strings (the
// user, the consent state, a flash message, where to go after the second
// factor), which JSON keeps apart when each is stored under its type.
//
// Stored data begins with a zero byte, which gob's never does (a gob
// stream begins with a message length, never zero); data without it was
// stored by gob before this codec and is read by gob, so sessions survive
// the change. A value of another type is refused when it is stored: a
// new kind of session value must be added here.
type SessionCodec struct{}

// sessionData is what a session stores, as JSON.
type sessionData struct {
	Deadline time.Time               `json:"d"`
	Values   map[string]sessionValue `json:"v"`
}

// sessionValue is one value under its Go type (exactly one is set).
type sessionValue struct {
	Int    *int    `json:"i,omitempty"`
	Int64  *int64  `json:"l,omitempty"`
	String *string `json:"s,omitempty"`
	Bool   *bool   `json:"b,omitempty"`
}

// Encode stores the deadline and the values.
func (SessionCodec) Encode(deadline time.Time, values map[string]interface{}) ([]byte, error) {
	d := sessionData{Deadline: deadline, Values: make(map[string]sessionValue, len(values))}
	for k, v := range values {
		var sv sessionValue
		switch v := v.(type) {
		case int:
			sv.Int = &v
		case int64:
			sv.Int64 = &v
		case string:
			sv.String = &v
		case bool:
			sv.Bool = &v
		default:
			return nil, fmt.Errorf("auth: session value %q is a %T, which the session codec does not store", k, v)
		}
		d.Values[k] = sv
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return append([]byte{0}, b...), nil
}

// Decode reads what Encode stored, or what gob stored before it.
func (SessionCodec) Decode(b []byte) (time.Time, map[string]interface{}, error) {
	if len(b) == 0 || b[0] != 0 {
		return scs.GobCodec{}.Decode(b)
	}
	var d sessionData
	if err := json.Unmarshal(b[1:], &d); err != nil {
		return time.Time{}, nil, fmt.Errorf("auth: session data: %w", err)
	}
	values := make(map[string]interface{}, len(d.Values))
	for k, v := range d.Values {
		switch {
		case v.Int != nil:
			values[k] = *v.Int
		case v.Int64 != nil:
			values[k] = *v.Int64
		case v.String != nil:
			values[k] = *v.String
		case v.Bool != nil:
			values[k] = *v.Bool
		default:
			return time.Time{}, nil, fmt.Errorf("auth: session value %q has no type", k)
		}
	}
	return d.Deadline, values, nil
}
