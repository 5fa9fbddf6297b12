-- Remote diagnostic imaging (src/imaging). The bytes live in the image store (embedded files or
-- Orthanc); the record holds an ImagingStudy per study. imaging_study maps a StudyInstanceUID to
-- its ImagingStudy and patient, so every DICOMweb request is checked against the record first.
CREATE TABLE imaging_study (
  study_uid         text PRIMARY KEY,
  imaging_study_id  text NOT NULL,
  patient_id        text NOT NULL,
  backend           text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX imaging_study_patient ON imaging_study (patient_id);

-- Measurements and notes drawn in the viewer, saved with the study (one row per annotation).
CREATE TABLE imaging_annotation (
  id           text PRIMARY KEY,
  study_uid    text NOT NULL REFERENCES imaging_study (study_uid),
  sop_uid      text NOT NULL,
  kind         text NOT NULL,
  data         jsonb NOT NULL,
  author_account text,
  author_name  text,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX imaging_annotation_study ON imaging_annotation (study_uid);
