/**
 * Test data for the validator equivalence test: deterministic mutations of valid resources
 * (removed required fields, wrong JSON types, unknown properties, bad dates/codes/ids, too many or
 * too few items, empty values, nulls, primitive `_x` extensions good and bad, choice-type mix-ups,
 * wrong reference targets, contained resources, broken extensions). Only used by tests.
 */
import type { Resource } from '@medplum/fhirtypes';

type Json = Record<string, unknown>;
interface Spot {
  parent: Json | unknown[];
  key: string | number;
}

const STRINGS = ['x', '', ' ', 'a  b', '2020-13-45', 'yesterday', '2020-02-30T25:00:00Z', '1990-02-30', 'urn:uuid:nope', 'tab\there', '\u0001'];
const NUMBERS = [42, 3.5, -1, 0, 1e21];
const EXTENSIONS: unknown[] = [
  { extension: [{ url: 'http://example.org/x', valueString: 'y' }] },
  { id: 'a1' },
  { extension: [{ valueString: 'no url' }] },
  { extension: [{ url: 'http://example.org/x', valueString: 'y', extension: [{ url: 'z', valueBoolean: true }] }] },
  { extension: [{ url: 'http://example.org/x', valueFoo: 1 }] },
  { foo: 1 },
  {},
  'not an object',
  [null, { extension: [{ url: 'http://example.org/x', valueCode: 'c' }] }],
];
const CONTAINED: unknown[] = [
  [{ resourceType: 'Patient', id: 'c1', name: [{ family: 'A' }] }],
  [{ resourceType: 'Patient', id: 'c1', foo: 1 }],
  [{ resourceType: 'Patient', id: 'c1', contained: [{ resourceType: 'Patient', id: 'c2' }] }],
  [{ resourceType: 'Patient', id: 'c1', text: { status: 'generated', div: '<div>x</div>' } }],
  [{ resourceType: 'Nope' }],
  [{}],
  { resourceType: 'Organization', id: 'o1', name: 'X' },
];
const REFERENCES = ['Medication/1', '#c1', 'Patient?identifier=x', '', 'Practitioner/p1', 'not a ref', '/x'];

function spots(value: unknown, out: Spot[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push({ parent: value, key: i });
      spots(v, out);
    });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'resourceType') continue;
      out.push({ parent: value as Json, key: k });
      spots(v, out);
    }
  }
}

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)];
}

function set(spot: Spot, v: unknown): void {
  (spot.parent as Json)[spot.key as string] = v;
}

/** One mutation of a copy of `resource` (a valid one), chosen by `rnd`; `extra` values come from a fuzzer. */
export function mutate(resource: Resource, rnd: () => number, extra?: unknown): Resource {
  const copy = structuredClone(resource) as unknown as Json;
  const all: Spot[] = [];
  spots(copy, all);
  if (all.length === 0) return copy as unknown as Resource;
  const spot = pick(rnd, all);
  const current = (spot.parent as Json)[spot.key as string];
  const objectSpot = !Array.isArray(spot.parent) ? (spot.parent as Json) : undefined;
  const key = String(spot.key);
  switch (Math.floor(rnd() * 16)) {
    case 0:
      if (objectSpot) delete objectSpot[key];
      else (spot.parent as unknown[]).splice(spot.key as number, 1);
      break;
    case 1:
      set(spot, pick(rnd, STRINGS));
      break;
    case 2:
      set(spot, pick(rnd, NUMBERS));
      break;
    case 3:
      set(spot, pick(rnd, [true, false]));
      break;
    case 4:
      set(spot, pick(rnd, [{}, { foo: 1 }, [], [[current]], { extension: [] }]));
      break;
    case 5:
      set(spot, Array.isArray(current) ? current[0] : [current, current]);
      break;
    case 6:
      set(spot, pick(rnd, [null, [null], [current, null]]));
      break;
    case 7:
      if (objectSpot) objectSpot[pick(rnd, ['foo', 'valueFoo', '_foo', 'constructor', 'resourceType', key + 'X', 'value[x]'])] = pick(rnd, [1, 'x', {}, null]);
      break;
    case 8:
      if (objectSpot) objectSpot['_' + key] = structuredClone(pick(rnd, EXTENSIONS));
      break;
    case 9:
      if (objectSpot && /[a-z][A-Z]/.test(key)) {
        const base = key.replace(/[A-Z].*$/, '');
        objectSpot[base + pick(rnd, ['String', 'Quantity', 'Boolean', 'DateTime', 'Period', 'Foo', 'CodeableConcept'])] = pick(rnd, [
          'x',
          true,
          { value: 1 },
          { start: '2020-01-01' },
          { text: 't' },
        ]);
        if (rnd() < 0.5) delete objectSpot[key];
      }
      break;
    case 10:
      if (current && typeof current === 'object' && 'reference' in (current as object)) {
        (current as Json).reference = pick(rnd, REFERENCES);
      } else set(spot, { reference: pick(rnd, REFERENCES) });
      break;
    case 11: {
      const roll = rnd();
      if (roll < 0.5) copy.contained = structuredClone(pick(rnd, CONTAINED));
      // Invariant breakers: obs-6, obs-7, con-4, cpl-3 and friends.
      else if (roll < 0.75) copy[pick(rnd, ['dataAbsentReason', 'abatementString', 'valueString', 'detail', 'reference'])] = pick(rnd, [{ text: 'x' }, 'x']);
      else copy.component = [{ code: copy.code ?? { text: 'c' }, valueString: 'v' }];
      break;
    }
    case 12:
      set(spot, [{ url: 'http://example.org/e', valueString: 'v', extension: [{ url: 'n', valueBoolean: true }] }]);
      if (objectSpot) objectSpot.extension = [{ url: pick(rnd, ['', 'http://x', 'has space']), valueDateTime: pick(rnd, STRINGS) }];
      break;
    case 13:
      set(spot, extra === undefined ? 'fuzz' : structuredClone(extra));
      break;
    case 14:
      if (typeof current === 'string') set(spot, current + pick(rnd, [' ', '  x', 'Z', '-99', '\n']));
      else if (typeof current === 'number') set(spot, -current - 0.5);
      else set(spot, String(current));
      break;
    default:
      // Several mutations at once.
      return mutate(mutate(copy as unknown as Resource, rnd, extra), rnd, extra);
  }
  return copy as unknown as Resource;
}
