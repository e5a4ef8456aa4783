package checkin

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/mend-practice/mend/internal/vault"
)

// sealedText is a check-in's (or an earlier version's) encrypted columns as
// read from the database. Embedded in Checkin and Version, it is filled by
// sqlx and opened into their plaintext fields.
type sealedText struct {
	SealedAnswers    []byte `db:"answers"`
	SealedReflection []byte `db:"reflection"`
	SealedSafetyNote []byte `db:"safety_note"`
}

// textFields are the vault fields of one table's three text columns.
type textFields struct{ answers, reflection, safetyNote vault.Field }

var (
	checkinText = textFields{vault.CheckinAnswers, vault.CheckinReflection, vault.CheckinSafetyNote}
	historyText = textFields{vault.HistoryAnswers, vault.HistoryReflection, vault.HistorySafetyNote}
)

// sealer returns the sealer of a pair's data key for the writing
// transaction: one key read (and lock against rotation) however many texts
// the transaction seals.
func (s *Store) sealer(ctx context.Context, tx *sqlx.Tx, practiceID, pairID int64) (*vault.Sealer, error) {
	sl, err := s.Vault.Sealer(ctx, tx, vault.PairScope(practiceID, pairID))
	if err != nil {
		return nil, fmt.Errorf("checkin: seal: %w", err)
	}
	return sl, nil
}

// seal encrypts a check-in's text for row id of the table fs names, with
// the pair's sealer. Empty text is NULL; an empty list of answers too.
func seal(sl *vault.Sealer, fs textFields, id int64, answers Answers, reflection, safetyNote string) (sealedText, error) {
	var out sealedText
	var err error
	if len(answers) > 0 {
		b, err := json.Marshal(answers)
		if err != nil {
			return out, err
		}
		if out.SealedAnswers, err = sl.Seal(fs.answers, id, b); err != nil {
			return out, err
		}
	}
	if out.SealedReflection, err = sl.Text(fs.reflection, id, reflection); err != nil {
		return out, err
	}
	if out.SealedSafetyNote, err = sl.Text(fs.safetyNote, id, safetyNote); err != nil {
		return out, err
	}
	return out, nil
}

// open decrypts the text of row id into the given fields.
func (st sealedText) open(ctx context.Context, v *vault.Vault, q sqlx.QueryerContext, fs textFields, id int64,
	answers *Answers, reflection, safetyNote *string) error {
	var err error
	*answers = Answers{}
	if st.SealedAnswers != nil {
		raw, err := v.OpenText(ctx, q, fs.answers, id, st.SealedAnswers)
		if err != nil {
			return fmt.Errorf("checkin: open %s row %d: %w", fs.answers, id, err)
		}
		if err := json.Unmarshal([]byte(raw), answers); err != nil {
			return fmt.Errorf("checkin: answers of row %d: %w", id, err)
		}
	}
	if *reflection, err = v.OpenText(ctx, q, fs.reflection, id, st.SealedReflection); err != nil {
		return fmt.Errorf("checkin: open %s row %d: %w", fs.reflection, id, err)
	}
	if *safetyNote, err = v.OpenText(ctx, q, fs.safetyNote, id, st.SealedSafetyNote); err != nil {
		return fmt.Errorf("checkin: open %s row %d: %w", fs.safetyNote, id, err)
	}
	return nil
}

// openAll decrypts the text of check-ins as read.
func (s *Store) openAll(ctx context.Context, q sqlx.QueryerContext, cs []Checkin) error {
	for i := range cs {
		c := &cs[i]
		if err := c.open(ctx, s.Vault, q, checkinText, c.ID, &c.Answers, &c.Reflection, &c.SafetyNote); err != nil {
			return err
		}
	}
	return nil
}
