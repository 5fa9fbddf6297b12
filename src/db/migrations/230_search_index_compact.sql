-- Fewer index rows and entries per resource (issue 19; the rules live in src/fhir/search-derived.ts,
-- whose lists this migration repeats — src/db/migrate-230.test.ts checks that they agree).
--
-- 1. :contains gets a small table of its own, the only trigram index: rows only for the string
--    parameters whose pickers search by substring, and per resource and parameter only the strings
--    not contained in a longer one. idx_string loses its trigram index (it held every string row).
CREATE TABLE idx_string_contains (
  rid   bigint   NOT NULL,
  param smallint NOT NULL,
  norm  text     NOT NULL
);

INSERT INTO idx_string_contains (rid, param, norm)
SELECT DISTINCT a.rid, a.param, a.norm
FROM idx_string a
JOIN search_param sp ON sp.id = a.param
WHERE (sp.resource_type, sp.code) IN (('Patient', 'name'), ('Practitioner', 'name'), ('Organization', 'name'),
                                      ('Location', 'name'), ('RelatedPerson', 'name'), ('HealthcareService', 'name'))
  AND NOT EXISTS (SELECT 1 FROM idx_string b
                  WHERE b.rid = a.rid AND b.param = a.param AND b.norm <> a.norm AND strpos(b.norm, a.norm) > 0);

CREATE INDEX idx_string_contains_trgm ON idx_string_contains USING gin (norm gin_trgm_ops);
CREATE INDEX idx_string_contains_rid ON idx_string_contains (rid);
DROP INDEX idx_string_trgm;

-- 2. Derived parameters keep no rows: they are answered from the rows of the parameters their
--    expression is the union of (Observation.combo-code = code | component-code, phonetic = name).
DELETE FROM idx_token WHERE param IN (SELECT id FROM search_param WHERE (resource_type, code) IN (
  ('Observation', 'combo-code'), ('Observation', 'combo-data-absent-reason'), ('Observation', 'combo-value-concept'),
  ('CapabilityStatement', 'version')));
DELETE FROM idx_quantity WHERE param IN (SELECT id FROM search_param WHERE (resource_type, code) IN (
  ('Observation', 'combo-value-quantity')));
DELETE FROM idx_string WHERE param IN (SELECT id FROM search_param WHERE (resource_type, code) IN (
  ('Patient', 'phonetic'), ('Practitioner', 'phonetic'), ('RelatedPerson', 'phonetic')));
DELETE FROM idx_uri WHERE param IN (SELECT id FROM search_param WHERE (resource_type, code) IN (
  ('CodeSystem', 'url')));

-- 3. A row identical to another of the same resource is written once.
DELETE FROM idx_string a USING idx_string b
  WHERE a.rid = b.rid AND a.param = b.param AND a.norm = b.norm AND a.exact = b.exact AND a.ctid > b.ctid;
DELETE FROM idx_token a USING idx_token b
  WHERE a.rid = b.rid AND a.param = b.param AND a.code = b.code AND a.system IS NOT DISTINCT FROM b.system AND a.ctid > b.ctid;
DELETE FROM idx_reference a USING idx_reference b
  WHERE a.rid = b.rid AND a.param = b.param AND a.target_id = b.target_id AND a.target_type = b.target_type AND a.ctid > b.ctid;
DELETE FROM idx_date a USING idx_date b
  WHERE a.rid = b.rid AND a.param = b.param AND a.low = b.low AND a.high = b.high AND a.ctid > b.ctid;
DELETE FROM idx_quantity a USING idx_quantity b
  WHERE a.rid = b.rid AND a.param = b.param AND a.value = b.value AND a.system IS NOT DISTINCT FROM b.system
    AND a.code IS NOT DISTINCT FROM b.code AND a.ctid > b.ctid;
DELETE FROM idx_uri a USING idx_uri b
  WHERE a.rid = b.rid AND a.param = b.param AND a.value = b.value AND a.ctid > b.ctid;

-- 4. An index no query uses: every reference lookup names its parameter, so (param, target_id,
--    target_type, rid) serves it (search, _revinclude, compartments, $everything, bulk export).
DROP INDEX idx_reference_any_target;
