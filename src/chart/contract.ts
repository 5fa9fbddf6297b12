/**
 * The clinician's chart (hồ sơ bệnh án tóm tắt) contract between server and web app:
 * `GET /api/chart/:patientId` answers everything a clinician must see on one screen, allergies
 * first. The web app imports the types only (`import type`).
 *
 * Rules: ids, codes and display texts only as the record holds them; every list is what the
 * caller's repository let through (an empty list means "nothing recorded that you may see").
 */
import { z } from 'zod';

export const chartParams = z.object({ patientId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a resource id') }).strict();

export interface ChartAllergy {
  id: string;
  substance: string;
  /** ATC or other codes of the substance (e.g. J01C for penicillins). */
  codes: string[];
  category?: string[];
  criticality?: string;
  /** 'allergy' or 'intolerance'. */
  type?: string;
  status?: string;
  reactions: string[];
  recordedDate?: string;
}

export interface ChartMedication {
  id: string;
  name: string;
  atc?: string;
  dosage?: string;
  since?: string;
  prescription?: string;
  by?: string;
  status?: string;
}

export interface ChartProblem {
  id: string;
  code?: string;
  display: string;
  since?: string;
  status?: string;
}

export interface ChartEncounter {
  id: string;
  date?: string;
  /** 'remote' for a remote examination (class VR), else 'visit'. */
  kind: 'remote' | 'visit';
  type?: string;
  facility?: string;
  diagnosis?: string;
}

export interface ChartAppointment {
  id: string;
  start?: string;
  status: string;
  service?: string;
  practitioner?: string;
}

export interface ChartDocument {
  id: string;
  title: string;
  date?: string;
  /** A link the web app can open (an attachment download), when there is one. */
  link?: string;
}

export interface ChartConsult {
  caseId: string;
  question?: string;
  specialty?: string;
  state: string;
  stateLabel: { vi: string; en: string };
  open: boolean;
  asked?: string;
  conclusion?: { title?: string; text: string; date?: string; signed: boolean };
}

export interface ChartAlert {
  id: string;
  text: string;
  since?: string;
  severity?: string;
}

export interface ChartProgramme {
  /** 'hypertension' | 'diabetes' (chronic-disease register) or 'careplan' (monitoring targets). */
  kind: string;
  label: string;
  since?: string;
  detail?: string;
}

export interface ChartFamilyManager {
  id: string;
  name: string;
  relationship?: string;
}

/** Answer of `GET /api/chart/:patientId`. */
export interface Chart {
  patient: {
    id: string;
    name: string;
    gender?: string;
    birthDate?: string;
    cccd?: string;
    bhytCard?: string;
    address?: string;
    phone?: string;
    ethnicity?: string;
    facility?: string;
  };
  allergies: ChartAllergy[];
  medications: ChartMedication[];
  problems: ChartProblem[];
  encounters: ChartEncounter[];
  appointments: ChartAppointment[];
  documents: ChartDocument[];
  consults: ChartConsult[];
  alerts: ChartAlert[];
  programmes: ChartProgramme[];
  familyManagers: ChartFamilyManager[];
}
