// Package authz decides whether a role may take an action on a kind of
// object, from the casbin model and policy embedded in policies/.
package authz

import (
	"fmt"
	"strconv"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	stringadapter "github.com/casbin/casbin/v2/persist/string-adapter"

	"github.com/mend-practice/mend/internal/mend"
	"github.com/mend-practice/mend/policies"
)

// Enforcer answers role → (object, action) questions. Every request asks
// one, and the policy is fixed for the life of the process (embedded, never
// edited at run time), so each answer is worked out once and then looked
// up: casbin's cached enforcer, keyed by the four strings asked.
type Enforcer struct {
	e *casbin.SyncedCachedEnforcer
}

// New loads the embedded model and policy.
func New() (*Enforcer, error) {
	return NewFromText(policies.Model, policies.Policy)
}

// NewFromText builds an enforcer from a model and policy given as text.
func NewFromText(modelText, policyText string) (*Enforcer, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("authz: model: %w", err)
	}
	e, err := casbin.NewSyncedCachedEnforcer(m, stringadapter.NewAdapter(policyText))
	if err != nil {
		return nil, fmt.Errorf("authz: policy: %w", err)
	}
	return &Enforcer{e: e}, nil
}

// Allowed reports whether role may do act on obj in the practice. An error
// from casbin is returned with false: callers deny on it.
func (en *Enforcer) Allowed(role mend.Role, practiceID int64, obj, act string) (bool, error) {
	dom := "0"
	if practiceID != 0 {
		dom = strconv.FormatInt(practiceID, 10)
	}
	ok, err := en.e.Enforce(string(role), dom, obj, act)
	if err != nil {
		return false, fmt.Errorf("authz: enforce %s %s %s: %w", role, obj, act, err)
	}
	return ok, nil
}
