/**
 * `$import`'s load order (dependencyOrder): every resource once, each after the resources it
 * references when they do not form a cycle — for random reference graphs (fast-check), and for a
 * chain far deeper than the call stack (a recursive walk overflowed at ≈ 10,000 links).
 */
import type { Patient, Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dependencyOrder } from './import.ts';

const patient = (i: number, refs: number[]): Patient => ({
  resourceType: 'Patient',
  id: `p${i}`,
  link: refs.map((j) => ({ other: { reference: `Patient/p${j}` }, type: 'seealso' })),
});

const positions = (order: Resource[]) => new Map(order.map((r, i) => [r.id!, i]));

describe('$import dependency order', () => {
  it('puts every resource once, each after what it references (acyclic graphs: edges only to lower numbers)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(), { maxLength: 4 }), { minLength: 1, maxLength: 60 }), fc.array(fc.nat(), { maxLength: 60 }), (edges, shuffle) => {
        const rs = edges.map((targets, i) => patient(i, i === 0 ? [] : targets.map((t) => t % i)));
        // Any input order (a few swaps).
        for (const s of shuffle) {
          const a = s % rs.length;
          const b = (s * 7 + 3) % rs.length;
          [rs[a], rs[b]] = [rs[b], rs[a]];
        }
        const order = dependencyOrder(rs);
        expect(order.map((r) => r.id).sort()).toEqual(rs.map((r) => r.id).sort());
        const at = positions(order);
        for (const r of rs as Patient[])
          for (const l of r.link ?? []) expect(at.get(l.other.reference!.slice('Patient/'.length))!).toBeLessThan(at.get(r.id!)!);
      }),
    );
  });

  it('keeps every resource of a cycle, once, and ignores references to resources not in the import', () => {
    const rs = [patient(0, [1]), patient(1, [2]), patient(2, [0, 99])];
    expect(
      dependencyOrder(rs)
        .map((r) => r.id)
        .sort(),
    ).toEqual(['p0', 'p1', 'p2']);
  });

  it('orders a chain of 100,000 links (each Patient linking to the next) without running out of stack', () => {
    const n = 100_000;
    const rs = Array.from({ length: n }, (_, i) => patient(i, i + 1 < n ? [i + 1] : []));
    const order = dependencyOrder(rs);
    expect(order).toHaveLength(n);
    expect(order[0].id).toBe(`p${n - 1}`);
    expect(order[n - 1].id).toBe('p0');
  });
});
