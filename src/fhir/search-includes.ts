/**
 * _include and _revinclude: the resources a page's matches point at, or that point at them —
 * with the same restriction as the matches (what the caller may not see stays hidden), at most
 * LIMITS.includeParams parameters and LIMITS.includedResources resources per page.
 */
import type { Queryable } from '../db/db.ts';
import { LIMITS } from './limits.ts';
import { badRequest, tooLarge } from './outcome.ts';
import { Sql, type QueryParams, type Restriction, type SearchMatch } from './search.ts';
import type { SearchRegistry } from './searchparams.ts';

const MAX_INCLUDES = LIMITS.includedResources;

export async function includes(
  q: Queryable,
  registry: SearchRegistry,
  resourceType: string,
  query: QueryParams,
  matches: SearchMatch[],
  restrict?: Restriction,
  patientsOf?: (alias: string) => string,
): Promise<SearchMatch[]> {
  const specs = [...(query._include ?? []).map((s) => ({ s, rev: false })), ...(query._revinclude ?? []).map((s) => ({ s, rev: true }))];
  if (specs.length > LIMITS.includeParams)
    throw tooLarge(`At most ${LIMITS.includeParams} _include/_revinclude parameters in one search (got ${specs.length})`);
  if (specs.length === 0 || matches.length === 0) return [];
  const rids = matches.map((m) => m.rid);
  const seen = new Set(rids);
  const out: SearchMatch[] = [];
  for (const { s, rev } of specs) {
    const [sourceType, code, targetType, extra] = s.split(':');
    if (extra !== undefined || !sourceType || !code)
      throw badRequest(`_${rev ? 'rev' : ''}include must be SourceType:parameter[:TargetType], got ${JSON.stringify(s)}`);
    const p = registry.get(sourceType, code);
    if (!p || p.type !== 'reference') throw badRequest(`${sourceType}:${code} is not a reference search parameter`);
    const isql = new Sql();
    const ridsParam = isql.bind(rids);
    const paramId = isql.bind(p.id);
    let rows;
    if (!rev) {
      if (sourceType !== resourceType) throw badRequest(`_include=${s}: the source type must be ${resourceType}`);
      const hidden = restrict?.((v) => isql.bind(v), 't');
      rows = await q.query<{ rid: number; content: string; resource_type: string; id: string; patients?: string[] }>(
        `SELECT t.rid, t.resource_type, t.id, v.content::text AS content${patientsOf ? `, ${patientsOf('t')} AS patients` : ''} FROM resource t
         JOIN resource_version v ON v.rid = t.rid AND v.version_id = t.version_id
         WHERE NOT t.deleted AND (t.resource_type, t.id) IN (
           SELECT target_type, target_id FROM idx_reference WHERE rid = ANY(${ridsParam}::bigint[]) AND param = ${paramId} ${targetType ? `AND target_type = ${isql.bind(targetType)}` : ''})
           ${hidden ? `AND ${hidden}` : ''}
         LIMIT ${MAX_INCLUDES}`,
        isql.params,
      );
    } else {
      if (targetType && targetType !== resourceType) continue;
      const hidden = restrict?.((v) => isql.bind(v), 's');
      rows = await q.query<{ rid: number; content: string; resource_type: string; id: string; patients?: string[] }>(
        `SELECT s.rid, s.resource_type, s.id, v.content::text AS content${patientsOf ? `, ${patientsOf('s')} AS patients` : ''} FROM idx_reference ref
         JOIN resource s ON s.rid = ref.rid AND NOT s.deleted
         JOIN resource_version v ON v.rid = s.rid AND v.version_id = s.version_id
         JOIN resource m ON m.rid = ANY(${ridsParam}::bigint[]) AND m.resource_type = ref.target_type AND m.id = ref.target_id
         WHERE ref.param = ${paramId} ${hidden ? `AND ${hidden}` : ''}
         LIMIT ${MAX_INCLUDES}`,
        isql.params,
      );
    }
    for (const row of rows.rows) {
      if (seen.has(row.rid)) continue;
      seen.add(row.rid);
      out.push({ rid: row.rid, content: row.content, resourceType: row.resource_type, id: row.id, ...(row.patients ? { patients: row.patients } : {}) });
    }
  }
  return out;
}
