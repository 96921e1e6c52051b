-- Version 6: the languages a service offers survivors (catalog locales, comma-separated, the
-- default among them) and the one new cases start in. Existing services keep English only.
ALTER TABLE services ADD COLUMN languages TEXT NOT NULL DEFAULT 'en_GB';
ALTER TABLE services ADD COLUMN default_language TEXT NOT NULL DEFAULT 'en_GB';
