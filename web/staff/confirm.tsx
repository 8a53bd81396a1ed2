import { useEffect, useRef } from 'preact/hooks';

export interface ConfirmRequest {
  title: string;
  text: string;
  confirm: string;
  run: () => Promise<void> | void;
}

/** A modal confirmation (native <dialog>) for actions that open a door or change the box. */
export function ConfirmDialog({ request, onClose }: { request: ConfirmRequest | null; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (request && !dialog.open) dialog.showModal();
    if (!request && dialog.open) dialog.close();
  }, [request]);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onClose={onClose}>
      {request && (
        <form
          method="dialog"
          onSubmit={(e) => {
            e.preventDefault();
            const run = request.run;
            onClose();
            void run();
          }}
        >
          <h2 id="confirm-title">{request.title}</h2>
          <p>{request.text}</p>
          <div class="actions">
            <button type="submit" class="primary">
              {request.confirm}
            </button>
            <button type="button" onClick={onClose}>
              Abbrechen
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
