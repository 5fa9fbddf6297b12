-- Outcomes of case conferences for the programme's indicators (src/programme/listeners.ts): whether
-- the signed conclusion advised transfer to a higher level (the consult Task's output
-- `transfer-advised`, written when the conclusion is signed) and the follow-up outcome the
-- requesting facility recorded (`outcome`: improved | stable | transferred | died | unknown).
-- "Transfer avoided" = local treatment advised and a follow-up outcome other than transferred or
-- unknown. Counted per month of request like the other consult counts, added and removed exactly.
ALTER TABLE programme_consult ADD COLUMN transfer_advised boolean;
ALTER TABLE programme_consult ADD COLUMN outcome text;

ALTER TABLE programme_consult_month ADD COLUMN followed_up integer NOT NULL DEFAULT 0;
ALTER TABLE programme_consult_month ADD COLUMN improved integer NOT NULL DEFAULT 0;
ALTER TABLE programme_consult_month ADD COLUMN stable integer NOT NULL DEFAULT 0;
ALTER TABLE programme_consult_month ADD COLUMN transferred integer NOT NULL DEFAULT 0;
ALTER TABLE programme_consult_month ADD COLUMN died integer NOT NULL DEFAULT 0;
ALTER TABLE programme_consult_month ADD COLUMN local_advised integer NOT NULL DEFAULT 0;
ALTER TABLE programme_consult_month ADD COLUMN transfers_avoided integer NOT NULL DEFAULT 0;
