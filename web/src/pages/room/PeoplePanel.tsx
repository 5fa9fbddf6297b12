/** The people panel: who waits in the lobby (the host admits or denies) and who is in the call (the host mutes or removes). */
import { t } from '../../i18n.ts';
import type { Call, Member } from '../../video/call.ts';
import { roleOf, siteOf } from './who.ts';

export function PeoplePanel({ call, lobby }: { call: Call; lobby: Member[] }) {
  const d = t().video;
  const me = call.me.value;
  const members = call.members.value;
  return (
    <aside class="card panel" aria-label={d.people}>
      {me?.host && lobby.length > 0 && (
        <>
          <h2>{d.lobby}</h2>
          <ul class="people">
            {lobby.map((m) => (
              <li key={m.id}>
                <span>
                  {m.name} <small>{siteOf(m)}</small>
                </span>
                <span class="row">
                  <button class="primary" onClick={() => call.host('admit', m.id)}>
                    {d.admit}
                  </button>
                  <button onClick={() => call.host('deny', m.id)}>{d.deny}</button>
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
      <h2>{d.people}</h2>
      <ul class="people">
        {members
          .filter((m) => m.state === 'in')
          .map((m) => (
            <li key={m.id}>
              <span>
                {m.id === me?.id ? `${m.name} (${d.you})` : m.name} {m.hand && '✋'}
                <br />
                <small>{[siteOf(m), roleOf(m), m.host ? d.host : ''].filter(Boolean).join(' · ')}</small>
              </span>
              {me?.host && m.id !== me.id && (
                <span class="row">
                  <button onClick={() => call.host('mute', m.id)}>{d.mute}</button>
                  <button class="danger" onClick={() => call.host('remove', m.id)}>
                    {d.remove}
                  </button>
                </span>
              )}
            </li>
          ))}
      </ul>
    </aside>
  );
}
