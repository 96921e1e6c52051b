-- Version 2: inbound messages that could not be processed are kept and flagged for a person;
-- interval schedules ("every 3 days") count from the day they were set.
ALTER TABLE inbound_messages ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE schedules ADD COLUMN anchor TEXT;
