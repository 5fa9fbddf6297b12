-- Remote examinations for citizens: one live booking per slot (the double-booking guard), and
-- the family members a citizen manages, with the proof of the relation that staff checked.

-- The primary key is the guard: two citizens booking one slot at the same moment both try to
-- insert here inside their booking transaction; PostgreSQL lets exactly one commit.
CREATE TABLE slot_booking (
  slot_id         text PRIMARY KEY,
  appointment_id  text NOT NULL UNIQUE,
  patient_id      text NOT NULL,
  booked_by       text NOT NULL,
  booked_at       timestamptz NOT NULL DEFAULT now()
);

-- manager_patient_id is the managing citizen's own Patient; patient_id the family member's.
-- The access rules read this table: a citizen reaches their own record and these.
CREATE TABLE family_link (
  id                  text PRIMARY KEY,
  manager_patient_id  text NOT NULL,
  patient_id          text NOT NULL,
  related_person_id   text NOT NULL,
  relationship        text NOT NULL,
  proof               text NOT NULL,
  recorded_by         text NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  revoked_at          timestamptz,
  CHECK (manager_patient_id <> patient_id)
);
CREATE UNIQUE INDEX family_link_active ON family_link (manager_patient_id, patient_id) WHERE revoked_at IS NULL;
