/** The chat panel: the call's messages (saved to the record) and a line to write one; the draft is kept by the call page. */
import { t } from '../../i18n.ts';
import type { Call } from '../../video/call.ts';

export function ChatPanel({ call, text, setText }: { call: Call; text: string; setText: (s: string) => void }) {
  const d = t().video;
  return (
    <aside class="card panel" aria-label={d.chat}>
      <ol class="chat">
        {call.chat.value.map((c) => (
          <li key={c.at + c.from}>
            <strong>{c.name}</strong> <small>{new Date(c.at).toLocaleTimeString('vi-VN', { hour: '2-digit', minute: '2-digit' })}</small>
            <br />
            {c.text}
          </li>
        ))}
      </ol>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (text.trim()) call.sendChat(text.trim());
          setText('');
        }}
      >
        <input
          aria-label={d.chat}
          placeholder={d.chatPlaceholder}
          value={text}
          maxLength={2000}
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
        />
        <button class="primary">{d.send}</button>
      </form>
    </aside>
  );
}
