-- Version 19: how each case's check-ins read on her phone, where her secrets may be set, what the
-- service signposts, and which signals an alert came from.
--
-- checkin_mode: 'direct' asks plainly ("Are you safe right now?"); 'cover' asks the same questions
-- dressed as an ordinary exchange (cover_theme names the theme, e.g. 'salon'). Chosen with her in
-- person at enrolment. Cases enrolled before this version have been answering direct questions, so
-- they stay direct until their IDVA changes it with her.
ALTER TABLE cases ADD COLUMN checkin_mode TEXT NOT NULL DEFAULT 'direct' CHECK (checkin_mode IN ('direct', 'cover'));
ALTER TABLE cases ADD COLUMN cover_theme TEXT;
-- 1: she may set her secrets over her channel (Telegram with auto-delete on only). 0: in person only.
ALTER TABLE cases ADD COLUMN secrets_on_channel INTEGER NOT NULL DEFAULT 0;

-- The mode the enrolment screen pre-selects; the choice is hers.
ALTER TABLE services ADD COLUMN default_checkin_mode TEXT NOT NULL DEFAULT 'direct'
    CHECK (default_checkin_mode IN ('direct', 'cover'));
ALTER TABLE services ADD COLUMN default_cover_theme TEXT;
-- A discreet line HELP adds on the channel (checked by the over-the-shoulder lint), or NULL.
ALTER TABLE services ADD COLUMN help_line TEXT;
-- Local helplines for the printed card: JSON [{"name": ..., "number": ..., "hours": ...}].
ALTER TABLE services ADD COLUMN helplines TEXT NOT NULL DEFAULT '[]';
-- The service's own safety-planning advice for the printed card (plain text, paragraphs).
ALTER TABLE services ADD COLUMN safety_card TEXT NOT NULL DEFAULT '';

-- The signals an alert came from, comma-separated names from safety/signals.py (never her words):
-- what lets the alert say "strangulation disclosed" rather than "risk level rose".
ALTER TABLE alerts ADD COLUMN signals TEXT NOT NULL DEFAULT '';

-- The rotation reads which questions her last answered check-ins asked.
CREATE INDEX answers_case ON answers(case_id, checkin_id);
