/**
 * The controlled-substance classes (controlled.ts): by ATC code and by INN, the kind each suggests,
 * and what is not controlled.
 */
import { describe, expect, it } from 'vitest';
import { CONTROLLED_ATC, controlledClassOfAtc, controlledClassOfName, controlledKindOf } from './controlled.ts';
import { controlledClassOf } from './drugs.ts';

describe('controlled substances', () => {
  it('finds the class of a code in it, whatever its case, and no class for others', () => {
    expect(controlledClassOfAtc('N02AX02')).toBe('N02A'); // tramadol
    expect(controlledClassOfAtc('n05ba01')).toBe('N05BA'); // diazepam
    expect(controlledClassOfAtc('N03AA02')).toBe('N03AA'); // phenobarbital
    expect(controlledClassOfAtc('N03AF01')).toBeUndefined(); // carbamazepine
    expect(controlledClassOfAtc('N02BE01')).toBeUndefined(); // paracetamol
    expect(controlledClassOfAtc('')).toBeUndefined();
  });

  it('finds the class of a medicine typed by its INN, with or without accents', () => {
    expect(controlledClassOfName('Morphin sulfat 10 mg')).toBe('N02A');
    expect(controlledClassOfName('Mọrphin')).toBe('N02A');
    expect(controlledClassOfName('Gardenal 100mg')).toBe('N03AA');
    expect(controlledClassOfName('Ketamin 500 mg/10 ml')).toBe('N01AX03');
    expect(controlledClassOfName('Paracetamol 500 mg')).toBeUndefined();
    expect(controlledClassOfName('   ')).toBeUndefined();
  });

  it('suggests n for opioids and h for the psychotropic classes', () => {
    expect(controlledKindOf('N02A')).toBe('n');
    expect(controlledKindOf('R05DA')).toBe('n');
    expect(controlledKindOf('N07BC')).toBe('n');
    expect(controlledKindOf('N05BA')).toBe('h');
    expect(controlledKindOf('N06BA')).toBe('h');
    for (const c of CONTROLLED_ATC) expect(['n', 'h']).toContain(controlledKindOf(c));
  });

  it('the server check (drugs.ts) agrees, and also knows the dictionary names', () => {
    expect(controlledClassOf({ name: 'x', atc: 'N02AX02' })).toBe('N02A');
    expect(controlledClassOf({ name: 'Tramadol 50 mg' })).toBe('N02A');
    expect(controlledClassOf({ name: 'Diazepam' })).toBe('N05BA');
    expect(controlledClassOf({ name: 'Amoxicilin 500 mg', atc: 'J01CA04' })).toBeUndefined();
  });
});
