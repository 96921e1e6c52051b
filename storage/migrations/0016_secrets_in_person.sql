-- Version 16: when the survivor chose her exit word, codeword and PINs on the practitioner's device in
-- person. Onboarding over her channel then never asks for them, so they stay out of her thread.
ALTER TABLE cases ADD COLUMN secrets_set_in_person_at TEXT;
