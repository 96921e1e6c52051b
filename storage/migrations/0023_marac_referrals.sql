-- Version 22: a Marac meeting records whether her case was heard (a deferred one is not a Marac she
-- went to, so it does not start the "repeat" year), and a case's Marac referral draft keeps the few
-- things only the IDVA can add. Everything else on the referral is read from what the case holds.
ALTER TABLE marac_meetings ADD COLUMN heard INTEGER NOT NULL DEFAULT 1 CHECK (heard IN (0, 1));

-- One draft per case. reason_enc: why the IDVA refers; views_enc: her views, in the IDVA's words.
-- Both free text, optional, encrypted and bound to the case's row.
CREATE TABLE marac_referrals (
    case_id INTEGER PRIMARY KEY REFERENCES cases(id),
    reason_enc BLOB,
    views_enc BLOB,
    updated_at TEXT NOT NULL,
    updated_by INTEGER NOT NULL REFERENCES practitioners(id)
);
