// Package checkin holds client check-ins on homework: the periods each
// cadence defines in the client's timezone, the rules for one check-in per
// client, homework and period (late marking, the edit window), and a Store
// whose SQL enforces who may see what: a client sees their own check-ins and
// those their partner shared, never the partner's private ones and never
// the partner's safety answers.
package checkin
