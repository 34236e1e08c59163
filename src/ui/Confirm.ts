import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';

export interface ConfirmRequest {
  title: string;
  detail: string;
  confirmLabel: string;
  run: () => Promise<string>;
}

/**
 * A modal confirmation (a native <dialog>: focus stays inside, Escape cancels).
 * The Cancel button has the focus first, so Enter never confirms by accident.
 */
export function ConfirmDialog({ request, onDone }: { request: ConfirmRequest | null; onDone: (message: string | null, error?: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (request && !d.open) {
      d.showModal();
      cancelRef.current?.focus();
    }
    if (!request && d.open) d.close();
  }, [request]);
  const confirm = async () => {
    if (!request) return;
    setBusy(true);
    try {
      onDone(await request.run());
    } catch (err) {
      onDone(`${request.title} failed: ${(err as Error).message}`, true);
    } finally {
      setBusy(false);
    }
  };
  return html`<dialog ref=${ref} aria-labelledby="confirm-title" onCancel=${(e: Event) => { e.preventDefault(); onDone(null); }}>
    <h2 id="confirm-title">${request?.title}</h2>
    <p>${request?.detail}</p>
    <div class="buttons">
      <button type="button" ref=${cancelRef} onClick=${() => onDone(null)} disabled=${busy}>Cancel</button>
      <button type="button" class="danger" onClick=${confirm} disabled=${busy}>${busy ? 'Working…' : request?.confirmLabel}</button>
    </div>
  </dialog>`;
}
