-- A person cannot be in two remote examinations at once: each booking keeps its slot's times, so
-- booking checks the person's other live bookings for an overlap (under a per-patient lock).
ALTER TABLE slot_booking ADD COLUMN starts_at timestamptz;
ALTER TABLE slot_booking ADD COLUMN ends_at timestamptz;

UPDATE slot_booking b
SET starts_at = (v.content ->> 'start')::timestamptz, ends_at = (v.content ->> 'end')::timestamptz
FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id
WHERE r.resource_type = 'Slot' AND r.id = b.slot_id;

CREATE INDEX slot_booking_patient_time ON slot_booking (patient_id, starts_at);
