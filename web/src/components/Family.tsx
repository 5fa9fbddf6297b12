/**
 * The people a citizen acts for: themselves and the family members they manage, and a switch between them.
 * Rules: the members' type is the server's (src/family/contract.ts, imported as a type only).
 */
import { useEffect, useState } from 'preact/hooks';
import { apiGet } from '../api.ts';
import { t } from '../i18n.ts';
import type { FamilyMember } from '../../../src/family/contract.ts';

export type Member = FamilyMember;

export function useFamily(): Member[] | undefined {
  const [family, setFamily] = useState<Member[]>();
  useEffect(() => void apiGet<Member[]>('/api/me/family').then(setFamily, () => setFamily([])), []);
  return family;
}

export function MemberSwitch({ family, current, to }: { family?: Member[]; current: string; to: (id: string) => string }) {
  const d = t();
  if (!family || family.length < 2) return null;
  return (
    <nav class="members" aria-label={d.cz.family}>
      {family.map((m) => (
        <a
          key={m.patientId}
          href={to(m.patientId)}
          class={`chip${m.patientId === current ? ' active' : ''}`}
          aria-current={m.patientId === current ? 'page' : undefined}
        >
          {m.name}
          <small>{m.self ? d.cz.self : m.relation}</small>
        </a>
      ))}
    </nav>
  );
}
