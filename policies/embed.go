// Package policies embeds the casbin model and policy that authorize every
// route: role → (object, action), with the practice as the domain.
package policies

import _ "embed"

// Model is the casbin model.
//
//go:embed model.conf
var Model string

// Policy is the policy: who may do what.
//
//go:embed policy.csv
var Policy string
