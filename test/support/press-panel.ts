import { answer, type Request } from '../../actors/runtime/ask.js';
import { defineActor, type Enqueue, type Stamp } from '../../actors/runtime/define.js';
import type { Message } from '../../actors/runtime/types.js';

type PanelState = { presses: number; big?: bigint };

/**
 * A panel for the runtime's own tests, as a session is: interactive (a person waits for it) and
 * transient (its state dies with the process). A press tells on (`tell`), is counted and is
 * answered with the count. `kind` names it; `keep` is added to its state (a value no store can hold).
 */
export function pressPanel<E extends { type: 'press' } & Request>(
  tell: (e: E & Stamp, enq: Enqueue<PanelState, never>) => void,
  { kind = 'panel', keep = {} }: { kind?: string; keep?: { big?: bigint } } = {},
) {
  return defineActor<PanelState, E & Message, never>({
    kind,
    interactive: true,
    transient: true,
    init: () => ({ presses: 0 }),
    on: {
      press: (ctx: PanelState, e: E & Stamp, enq: Enqueue<PanelState, never>) => {
        tell(e, enq);
        enq.emit.send(answer(e, ctx.presses + 1));
        return { presses: ctx.presses + 1, ...keep };
      },
    } as never,
  });
}
