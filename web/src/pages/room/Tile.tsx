/** One participant's tile: their video (or an avatar when audio only), name, hand, mute, sharing and quality badges. */
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../../i18n.ts';
import { tw } from '../../i18n-weaklink.ts';
import type { Member } from '../../video/call.ts';
import { siteOf } from './who.ts';

export function Tile({
  member,
  stream,
  local,
  quality,
  speaking,
}: {
  member?: Member;
  stream?: MediaStream;
  local?: MediaStream;
  quality?: string;
  speaking: boolean;
}) {
  const d = t().video;
  const ref = useRef<HTMLVideoElement>(null);
  const s = local ?? stream;
  useEffect(() => {
    if (ref.current && ref.current.srcObject !== (s ?? null)) ref.current.srcObject = s ?? null;
  }, [s]);
  const audioOnly = member?.media.audioOnly || member?.media.video === false;
  // Their own link is weak: they stepped down (or receive poorly themselves). Shown to everyone.
  const level = member?.media.level ?? (member?.media.audioOnly ? 'audio' : 'full');
  const weak = !!member && !local && (level !== 'full' || member.media.quality === 'poor');
  return (
    <figure
      class={`tile${speaking ? ' speaking' : ''}`}
      data-member={member?.id ?? 'me'}
      data-name={member?.name}
      data-level={member ? level : undefined}
      data-link={weak ? 'weak' : undefined}
    >
      <video ref={ref} autoplay playsInline muted={!!local} class={audioOnly && !member?.media.screen ? 'hidden-video' : ''} />
      {audioOnly && !member?.media.screen && (
        <div class="avatar" aria-hidden="true">
          {(member?.name ?? '?').slice(0, 1)}
        </div>
      )}
      <figcaption>
        <strong>{local ? d.you : member?.name}</strong>
        {member?.hand && <span title={d.hand}> ✋</span>}
        {member && !member.media.audio && (
          <span class="badge" title={d.mic}>
            🔇
          </span>
        )}
        {member?.media.audioOnly && <span class="badge">{d.audioOnly.split(' — ')[0]}</span>}
        {level === 'low' && !local && <span class="badge">{tw().lowPicture}</span>}
        {weak && (
          <span class="badge q-poor" title={tw().weakLinkTitle} data-testid="weak-link">
            {tw().weakLink}
          </span>
        )}
        {member?.media.screen && <span class="badge">{d.sharing}</span>}
        {member && !local && (
          <span class={`badge q-${quality ?? 'unknown'}`} data-quality={quality ?? 'unknown'}>
            {d.quality[quality ?? 'unknown']}
          </span>
        )}
        <br />
        <small>{member ? [siteOf(member), member.host ? d.host : ''].filter(Boolean).join(' · ') : ''}</small>
      </figcaption>
    </figure>
  );
}
