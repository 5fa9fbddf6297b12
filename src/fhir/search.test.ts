import type { Bundle, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../testing/databases.ts';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';

const ids = (b: Bundle) => (b.entry ?? []).filter((e) => e.search?.mode !== 'include').map((e) => e.resource!.id!);
const names = (b: Bundle) =>
  (b.entry ?? [])
    .map((e) => (e.resource as any).name?.[0]?.text)
    .filter(Boolean)
    .sort();

describe.each(DB_KINDS)('FHIR search on %s', (kind) => {
  let p: TestPlatform;
  const created: Record<string, string> = {};

  async function create(r: Resource): Promise<Resource> {
    const res = await call(p, 'POST', `/fhir/R4/${r.resourceType}`, r);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }
  const search = async (q: string) => {
    const res = await call<Bundle>(p, 'GET', `/fhir/R4/${q}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: [] });
    const people: [string, string, string[], string, string][] = [
      ['an', 'Nguyễn', ['Văn', 'An'], 'male', '1980-05-12'],
      ['anh', 'Nguyễn', ['Thị', 'Ánh'], 'female', '1992-11-30'],
      ['duc', 'Đặng', ['Minh', 'Đức'], 'male', '1975-01-01'],
      ['dung', 'Dương', ['Thu', 'Dung'], 'female', '2001-07-04'],
      ['smith', 'Smith', ['John'], 'male', '1960'],
    ];
    for (const [key, family, given, gender, birthDate] of people) {
      const r = await create({
        resourceType: 'Patient',
        name: [{ family, given, text: `${family} ${given.join(' ')}` }],
        gender: gender as 'male',
        birthDate,
        identifier: [{ system: 'urn:test:mrn', value: `MRN-${key}` }],
        telecom: [{ system: 'phone', value: `09000000${people.findIndex((x) => x[0] === key)}` }],
        address: [{ city: key === 'smith' ? 'Boston' : 'Xã Bát Xát', state: key === 'smith' ? 'MA' : 'Tỉnh Lào Cai' }],
      } as Resource);
      created[key] = r.id!;
    }
    const org = await create({ resourceType: 'Organization', name: 'Trạm Y tế xã Bát Xát' } as Resource);
    created.org = org.id!;
    const obs = (patient: string, code: string, value: number, unit: string, date: string) =>
      create({
        resourceType: 'Observation',
        status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code }] },
        subject: { reference: `Patient/${created[patient]}` },
        performer: [{ reference: `Organization/${created.org}` }],
        effectiveDateTime: date,
        valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
      } as Resource);
    created.hr1 = (await obs('an', '8867-4', 72, '/min', '2026-01-10T08:00:00+07:00')).id!;
    created.hr2 = (await obs('an', '8867-4', 110, '/min', '2026-03-10T08:00:00+07:00')).id!;
    created.spo2 = (await obs('anh', '59408-5', 97, '%', '2026-02-01')).id!;
    created.temp = (await obs('duc', '8310-5', 38.5, 'Cel', '2025-12-31T23:30:00Z')).id!;
  });
  afterAll(async () => p?.close());

  it('matches Vietnamese names without diacritics and in any case (đ = d)', async () => {
    expect(names(await search('Patient?name=nguyen van a'))).toEqual(['Nguyễn Văn An']);
    expect(names(await search('Patient?name=NGUYEN'))).toEqual(['Nguyễn Thị Ánh', 'Nguyễn Văn An']);
    expect(names(await search('Patient?name=nguyễn thị ánh'))).toEqual(['Nguyễn Thị Ánh']);
    expect(names(await search('Patient?name=dang'))).toEqual(['Đặng Minh Đức']);
    expect(names(await search('Patient?name=Đ'))).toEqual(['Dương Thu Dung', 'Đặng Minh Đức']);
    expect(names(await search('Patient?name=d'))).toEqual(['Dương Thu Dung', 'Đặng Minh Đức']);
    expect(names(await search('Patient?given=duc'))).toEqual(['Đặng Minh Đức']);
    expect(names(await search('Patient?family=nguyen&given=an'))).toEqual(['Nguyễn Thị Ánh', 'Nguyễn Văn An']);
    expect(names(await search('Patient?name=an nguyen'))).toEqual([]); // not a prefix of any part or order
    expect(names(await search('Patient?name=van an nguyen'))).toEqual(['Nguyễn Văn An']); // given-first order
  });

  it('supports :exact and :contains on strings', async () => {
    expect(names(await search('Patient?family:exact=Nguyễn'))).toEqual(['Nguyễn Thị Ánh', 'Nguyễn Văn An']);
    expect(names(await search('Patient?family:exact=nguyen'))).toEqual([]);
    expect(names(await search('Patient?name:contains=inh'))).toEqual(['Đặng Minh Đức']);
    expect(names(await search('Patient?address:contains=bat xat'))).toHaveLength(4);
    expect(names(await search('Patient?address-city=boston'))).toEqual(['Smith John']);
  });

  it('supports token search with system, code, :not and :missing', async () => {
    expect(ids(await search('Patient?identifier=urn:test:mrn|MRN-an'))).toEqual([created.an]);
    expect(ids(await search('Patient?identifier=MRN-an'))).toEqual([created.an]);
    expect(ids(await search('Patient?identifier=urn:other|MRN-an'))).toEqual([]);
    expect(ids(await search('Patient?gender=female')).sort()).toEqual([created.anh, created.dung].sort());
    expect(ids(await search('Patient?gender:not=male')).sort()).toEqual([created.anh, created.dung].sort());
    expect(ids(await search('Patient?gender=female,male'))).toHaveLength(5);
    expect(ids(await search('Patient?telecom=090000001'))).toEqual([created.anh]);
    expect(ids(await search('Patient?deceased=true'))).toEqual([]);
    expect(ids(await search('Patient?address-postalcode:missing=true'))).toHaveLength(5);
    expect(ids(await search('Patient?telecom:missing=false'))).toHaveLength(5);
    expect(ids(await search('Patient?birthdate:missing=true'))).toEqual([]);
    expect(ids(await search('Observation?code=http://loinc.org|8867-4')).sort()).toEqual([created.hr1, created.hr2].sort());
    expect(ids(await search('Observation?category=vital-signs'))).toHaveLength(4);
  });

  it('supports date prefixes at every precision', async () => {
    expect(ids(await search('Patient?birthdate=1980'))).toEqual([created.an]);
    expect(ids(await search('Patient?birthdate=1980-05'))).toEqual([created.an]);
    expect(ids(await search('Patient?birthdate=1980-05-12'))).toEqual([created.an]);
    expect(ids(await search('Patient?birthdate=1980-05-13'))).toEqual([]);
    expect(ids(await search('Patient?birthdate=gt1990')).sort()).toEqual([created.anh, created.dung].sort());
    expect(ids(await search('Patient?birthdate=lt1976')).sort()).toEqual([created.duc, created.smith].sort());
    expect(ids(await search('Patient?birthdate=ge1980-05-12&birthdate=le1992-11-30')).sort()).toEqual([created.an, created.anh].sort());
    expect(ids(await search('Patient?birthdate=ne1960')).length).toBe(4);
    // "1960" is a whole year: it is not "eq" to a day within it, but overlaps it.
    expect(ids(await search('Patient?birthdate=1960-06-01'))).toEqual([]);
    expect(ids(await search('Patient?birthdate=sa1999')).sort()).toEqual([created.dung]);
    expect(ids(await search('Patient?birthdate=eb1976')).sort()).toEqual([created.duc, created.smith].sort());
    // Time zones: 08:00+07:00 is 01:00Z on the same day.
    expect(ids(await search('Observation?date=2026-01-10'))).toEqual([created.hr1]);
    expect(ids(await search('Observation?date=gt2026-01-10T00:59:00Z'))).toContain(created.hr1);
    expect(ids(await search('Observation?date=lt2026-01-10T01:00:00Z'))).not.toContain(created.hr1);
    expect(ids(await search('Observation?date=2025'))).toEqual([created.temp]);
  });

  it('supports quantity prefixes and units', async () => {
    expect(ids(await search('Observation?value-quantity=72'))).toEqual([created.hr1]);
    expect(ids(await search('Observation?value-quantity=gt100'))).toEqual([created.hr2]);
    expect(ids(await search('Observation?value-quantity=38.5|http://unitsofmeasure.org|Cel'))).toEqual([created.temp]);
    expect(ids(await search('Observation?value-quantity=38.5||%'))).toEqual([]);
    expect(ids(await search('Observation?value-quantity=le97||%'))).toEqual([created.spo2]);
    expect(ids(await search('Observation?value-quantity=ap115'))).toEqual([created.hr2]); // 110 is within 10%
    expect(ids(await search('Observation?value-quantity=ap100')).sort()).toEqual([created.hr2, created.spo2].sort());
    expect(ids(await search('Observation?value-quantity=ne72&code=8867-4'))).toEqual([created.hr2]);
  });

  it('supports references, _include and _revinclude', async () => {
    expect(ids(await search(`Observation?subject=Patient/${created.an}`)).sort()).toEqual([created.hr1, created.hr2].sort());
    expect(ids(await search(`Observation?patient=${created.an}`)).sort()).toEqual([created.hr1, created.hr2].sort());
    expect(ids(await search(`Observation?subject:Patient=${created.anh}`))).toEqual([created.spo2]);
    expect(ids(await search(`Observation?performer=Organization/${created.org}`))).toHaveLength(4);
    const inc = await search(`Observation?code=59408-5&_include=Observation:subject`);
    expect(inc.entry!.map((e) => [e.search!.mode, e.resource!.resourceType])).toEqual([
      ['match', 'Observation'],
      ['include', 'Patient'],
    ]);
    const rev = await search(`Patient?_id=${created.an}&_revinclude=Observation:subject`);
    expect(
      rev
        .entry!.filter((e) => e.search!.mode === 'include')
        .map((e) => e.resource!.id)
        .sort(),
    ).toEqual([created.hr1, created.hr2].sort());
  });

  it('counts, totals, sorts and pages with next links', async () => {
    const count = await search('Patient?_summary=count');
    expect(count.total).toBe(5);
    expect(count.entry).toBeUndefined();
    expect((await search('Patient?gender=male&_total=accurate&_count=1')).total).toBe(3);
    const sorted = await search('Patient?_sort=birthdate');
    expect(ids(sorted)).toEqual([created.smith, created.duc, created.an, created.anh, created.dung]);
    const desc = await search('Patient?_sort=-birthdate');
    expect(ids(desc)).toEqual([created.dung, created.anh, created.an, created.duc, created.smith]);
    const byName = await search('Patient?_sort=family,given');
    expect(names(byName)).toEqual(names(byName)); // sanity
    expect(ids(byName)[0]).toBe(created.duc); // "dang" < "duong" < "nguyen" < "smith" after folding
    // page through two at a time
    const seen: string[] = [];
    let page = await search('Patient?_sort=birthdate&_count=2');
    for (;;) {
      seen.push(...ids(page));
      const next = page.link?.find((l) => l.relation === 'next');
      if (!next) break;
      const u = new URL(next.url!);
      page = await search(`Patient${u.search}`);
    }
    expect(seen).toEqual([created.smith, created.duc, created.an, created.anh, created.dung]);
  });

  it('keeps paging correct while resources are created and deleted concurrently', async () => {
    const mk = (i: number) => ({ resourceType: 'Practitioner', name: [{ family: `Paging${String(i).padStart(3, '0')}` }] }) as Resource;
    const original: string[] = [];
    for (let i = 0; i < 30; i++) original.push((await create(mk(i))).id!);
    for (const sort of ['', '&_sort=family', '&_sort=-_lastUpdated']) {
      const seen: string[] = [];
      let page = await search(`Practitioner?family=paging${sort}&_count=7`);
      let round = 0;
      for (;;) {
        seen.push(...ids(page));
        // Between pages, others write: new resources appear, already-seen ones disappear.
        await create(mk(100 + round++));
        const next = page.link?.find((l) => l.relation === 'next');
        if (!next) break;
        page = await search(`Practitioner${new URL(next.url!).search}`);
      }
      expect(new Set(seen).size, `duplicates with sort "${sort}"`).toBe(seen.length);
      for (const id of original) expect(seen, `sort "${sort}" skipped ${id}`).toContain(id);
    }
  });

  it('answers _elements with a subset marked SUBSETTED', async () => {
    const b = await search(`Patient?_id=${created.an}&_elements=gender`);
    const r = b.entry![0].resource as any;
    expect(r.gender).toBe('male');
    expect(r.name).toBeUndefined();
    expect(r.meta.tag.some((t: any) => t.code === 'SUBSETTED')).toBe(true);
  });

  it('runs Patient/$everything', async () => {
    const b = await search(`Patient/${created.an}/$everything`);
    const types = (b.entry ?? []).map((e) => e.resource!.resourceType).sort();
    expect(types).toEqual(['Observation', 'Observation', 'Organization', 'Patient']);
  });

  it('rejects malformed searches with a message', async () => {
    for (const [q, msg] of [
      ['Patient?birthdate=tomorrow', /not a FHIR date/],
      ['Observation?value-quantity=lots', /number/],
      ['Patient?_count=many', /whole number/],
      ['Patient?name:fuzzy=x', /not supported/],
      ['Patient?_sort=colour', /unknown parameter/],
      ['Patient?_cursor=abc', /cursor/],
      ['Patient?general-practitioner.name=x', /Chained/],
      ['Patient?name=', /Empty value/],
      // Names of JavaScript's object internals are unknown parameters like any other (found by the fuzzer).
      ['Observation?toString=NaN', /toString/],
      ['Observation?constructor=1', /constructor/],
      ['Observation?__proto__=1', /__proto__/],
    ] as const) {
      const res = await call(p, 'GET', `/fhir/R4/${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.issue[0].diagnostics, q).toMatch(msg);
    }
  });
});
