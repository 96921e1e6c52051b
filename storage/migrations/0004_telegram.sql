-- Version 4: Telegram.
-- A case enrolled for Telegram has no address until the survivor opens the bot's deep link: its
-- activation code gets a keyed lookup hash, so `/start <code>` finds the case to bind the chat to.
ALTER TABLE cases ADD COLUMN activation_lookup BLOB;
CREATE UNIQUE INDEX cases_activation_lookup ON cases(activation_lookup) WHERE activation_lookup IS NOT NULL;

-- The message ids of a survivor's Telegram chat (both sides), kept only so that a quick exit or
-- the survivor's auto-delete choice can delete them. Ids are not personal data, but they tie a
-- chat to a case: a row goes as soon as its message is deleted or Telegram's 48 h have passed.
CREATE TABLE telegram_messages (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    message_id INTEGER NOT NULL,
    at TEXT NOT NULL,
    delete_at TEXT,                -- the survivor's auto-delete: when it goes; NULL = kept
    question INTEGER NOT NULL DEFAULT 0,  -- a bot message with answer buttons
    UNIQUE (case_id, message_id)
);
CREATE INDEX telegram_messages_due ON telegram_messages(delete_at) WHERE delete_at IS NOT NULL;
CREATE INDEX telegram_messages_at ON telegram_messages(at);

-- Per-survivor Telegram choices.
CREATE TABLE telegram_prefs (
    case_id INTEGER PRIMARY KEY REFERENCES cases(id),
    autodelete_minutes INTEGER      -- delete each message this long after it was sent; NULL = never
);
